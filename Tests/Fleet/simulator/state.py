"""The one lock over the simulated cloud's state.

moto's backends are plain Python objects with no locking of their own, and the simulator changes
them from background threads (the web and load-balancer loop, instance refresh, Run Command's
agents) while request threads read them. Every read or write of a moto backend, and of the
simulator's own records (commands, agents, refreshes, balancers), happens while holding `LOCK`.
It is re-entrant so that a handler can call helpers that take it again; nothing slow (a process
run, a sleep, a socket wait) may happen while holding it.
"""
import threading

LOCK = threading.RLock()
