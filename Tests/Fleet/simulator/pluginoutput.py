"""The `Output` of a Run Command plugin as the SSM agent reports it.

The agent does not send the whole of stdout and stderr with its reply: it joins them under an
error title and keeps 2,500 bytes in all, cutting the longer stream (or both, half each) and
marking every cut (amazon-ssm-agent, iohandler `TruncateOutput`). `ListCommandInvocations
--details` shows exactly that text, so a client that parses it here must cope with the same cuts
it will meet on AWS. The agent counts bytes, not characters; a cut inside a UTF-8 sequence comes
out as U+FFFD, as Go's JSON encoder writes invalid UTF-8.

GetCommandInvocation's own limits (24,000 characters of stdout, 8,000 of stderr) are the
service's and stay in runcommand.
"""
CAPACITY = 2500
ERROR_TITLE = b"\n----------ERROR-------\n"
OUTPUT_CUT = b"\n---Output truncated---"
ERROR_CUT = b"\n---Error truncated----"


def plugin_output(stdout, stderr, capacity=CAPACITY):
    """stdout and stderr (str) as the agent's one `Output` string."""
    out, err = stdout.encode("utf-8"), stderr.encode("utf-8")
    title = ERROR_TITLE if err else b""
    room = capacity - len(title)
    if len(out) + len(err) < room:           # the agent truncates from "equal" on
        joined = out + title + err
    elif len(out) > room // 2 and len(err) > room // 2:
        each = (room - len(OUTPUT_CUT) - len(ERROR_CUT)) // 2
        joined = out[:each] + OUTPUT_CUT + title + err[:each] + ERROR_CUT
    elif len(out) < room // 2:               # stdout is short: only stderr is cut
        joined = out + title + err[:room - len(ERROR_CUT) - len(out)] + ERROR_CUT
    else:                                    # stderr is short: only stdout is cut
        joined = out[:max(0, room - len(OUTPUT_CUT) - len(err))] + OUTPUT_CUT + title + err
    return joined.decode("utf-8", "replace")
