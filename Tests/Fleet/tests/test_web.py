"""Instances serve their `current` release; haproxy plays the ALB, following registration and health."""
import json
import os
import socket
import time
import urllib.request
from polling import eventually


def serve_release(simulator, instance, release, healthy=True):
    root = os.path.join(simulator.state, "instances", instance, "root", "srv", "app")
    public = os.path.join(root, "releases", release, "public")
    os.makedirs(public, exist_ok=True)
    with open(os.path.join(public, "index.php"), "w") as handle:
        handle.write(f"<?php echo '{release} ' . getenv('FLEET_INSTANCE_ID');")
    with open(os.path.join(public, "health.php"), "w") as handle:
        handle.write("<?php echo 'ok';" if healthy else "<?php http_response_code(503); echo 'database down';")
    link = os.path.join(root, "current")
    if os.path.islink(link):
        os.remove(link)
    os.symlink(os.path.join("releases", release), link)


def launch(simulator, count):
    """The ELBv2 client, the default VPC and two of its subnets, and `count` new instances."""
    ec2, elb = simulator.client("ec2"), simulator.client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"]][:2]
    instances = [item["InstanceId"] for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count)["Instances"]]
    return elb, vpc, subnets, instances


def admin(simulator, balancer, command):
    """One command on a balancer's haproxy admin socket, and its answer."""
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(os.path.join(simulator.state, f"lb-{balancer}.sock"))
        connection.sendall(command.encode() + b"\n")
        return b"".join(iter(lambda: connection.recv(65536), b"")).decode()


def status(simulator):
    return json.loads(simulator.fleet("status", "--json"))


def states(elb, group):
    return {item["Target"]["Id"]: item["TargetHealth"]["State"]
            for item in elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]}




def test_load_balancer_follows_registration_health_and_draining(simulator):
    elb, vpc, subnets, instances = launch(simulator, 3)
    serve_release(simulator, instances[0], "r1")
    serve_release(simulator, instances[1], "r1")
    serve_release(simulator, instances[2], "r1", healthy=False)
    balancer = elb.create_load_balancer(Name="web-alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc,
                                    HealthCheckPath="/health.php")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "100"}])   # 2 s at the tests' time scale
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance} for instance in instances])

    health = eventually(lambda: (lambda s: s if set(s.values()) == {"healthy", "unhealthy"} else None)(states(elb, group)))
    assert health == {instances[0]: "healthy", instances[1]: "healthy", instances[2]: "unhealthy"}
    url = next(item["url"] for item in status(simulator)["loadBalancers"] if item["name"] == "web-alb")
    answers = {urllib.request.urlopen(url).read().decode() for _ in range(8)}
    assert answers == {f"r1 {instances[0]}", f"r1 {instances[1]}"}       # never the unhealthy one

    serve_release(simulator, instances[0], "r2")                           # switching `current` switches releases
    assert urllib.request.urlopen(url).read().decode() in {f"r2 {instances[0]}", f"r1 {instances[1]}"}

    elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": instances[1]}])
    assert eventually(lambda: states(elb, group).get(instances[1]) == "draining")
    answers = {urllib.request.urlopen(url).read().decode() for _ in range(6)}
    config = open(os.path.join(simulator.state, "lb-web-alb.cfg")).read()
    assert answers == {f"r2 {instances[0]}"}, config                       # a draining target gets no new requests
    assert eventually(lambda: instances[1] not in states(elb, group))          # gone after the delay

    listed = {item["id"]: item for item in status(simulator)["instances"]}
    assert listed[instances[0]]["webPort"] and listed[instances[0]]["agent"] == "Online"


def test_health_follows_each_group_settings_in_scaled_aws_time(simulator):
    """AWS defaults (30 s interval, 5 checks to healthy) at the tests' FLEET_TIME_SCALE=0.02: a
    target is `initial` for at least 4 intervals (2.4 s), so a deploy that does not wait fails."""
    elb, vpc, subnets, instances = launch(simulator, 3)
    for instance in instances:
        serve_release(simulator, instance, "r1")
    balancer = elb.create_load_balancer(Name="two-listeners", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    slow = elb.create_target_group(Name="defaults", Protocol="HTTP", Port=80, VpcId=vpc,
                                   HealthCheckPath="/health.php")["TargetGroups"][0]["TargetGroupArn"]
    quick = elb.create_target_group(Name="quick", Protocol="HTTP", Port=8080, VpcId=vpc, HealthCheckPath="/health.php",
                                    HealthCheckIntervalSeconds=10, HealthyThresholdCount=2,
                                    UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": slow}])
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=8080, DefaultActions=[{"Type": "forward", "TargetGroupArn": quick}])
    time.sleep(0.5)
    served = {item["id"]: item["webPort"] for item in status(simulator)["instances"]}
    assert not any(served[instance] for instance in instances)              # not registered: not served
    started = time.time()
    elb.register_targets(TargetGroupArn=slow, Targets=[{"Id": instances[0]}])
    elb.register_targets(TargetGroupArn=quick, Targets=[{"Id": instances[1]}])
    eventually(lambda: states(elb, quick).get(instances[1]) == "healthy")
    quick_time = time.time() - started
    assert states(elb, slow)[instances[0]] == "initial"
    eventually(lambda: states(elb, slow).get(instances[0]) == "healthy")
    slow_time = time.time() - started
    assert quick_time < slow_time and slow_time >= 4 * 30 * 0.02
    listed = {item["id"]: item for item in status(simulator)["instances"]}
    assert listed[instances[2]]["webPort"] is None                       # never registered, never served
    [lb] = [item for item in status(simulator)["loadBalancers"] if item["name"] == "two-listeners"]
    assert len(lb["listeners"]) == 2                                        # one frontend per listener
    answers = {url: urllib.request.urlopen(url).read().decode() for url in (item["url"] for item in lb["listeners"])}
    assert set(answers.values()) == {f"r1 {instances[0]}", f"r1 {instances[1]}"}


def test_one_bad_instance_does_not_stop_the_others_being_served(simulator):
    elb, vpc, subnets, (bad, good) = launch(simulator, 2)
    serve_release(simulator, bad, "r1")
    serve_release(simulator, good, "r1")
    os.makedirs(os.path.join(simulator.state, "instances", bad, "web.log"))    # its server's log cannot be opened
    balancer = elb.create_load_balancer(Name="one-bad", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(Name="one-bad", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckIntervalSeconds=5,
                                    HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": bad}, {"Id": good}])
    eventually(lambda: states(elb, group) == {bad: "unhealthy", good: "healthy"})
    url = next(item["url"] for item in status(simulator)["loadBalancers"] if item["name"] == "one-bad")
    assert urllib.request.urlopen(url).read().decode() == f"r1 {good}"
    assert f"serving {bad}" in open(os.path.join(simulator.state, "web.log")).read()    # logged where it can be read


def test_a_balancers_dns_name_answers_through_the_simulator_as_a_proxy(simulator):
    """http_proxy=$FLEET_HTTP_PROXY: http://<DNSName>[:port]/ reaches that balancer's listener."""
    elb, vpc, subnets, [instance] = launch(simulator, 1)
    serve_release(simulator, instance, "p1")
    created = elb.create_load_balancer(Name="proxied-alb", Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(Name="proxied", Protocol="HTTP", Port=80, VpcId=vpc,
                                    HealthCheckPath="/health.php")["TargetGroups"][0]["TargetGroupArn"]
    for port in (80, 8080):
        elb.create_listener(LoadBalancerArn=created["LoadBalancerArn"], Protocol="HTTP", Port=port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance}])
    assert eventually(lambda: states(elb, group).get(instance) == "healthy")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": simulator.endpoint}))
    dns = created["DNSName"]
    assert opener.open(f"http://{dns}/").read().decode() == f"p1 {instance}"
    assert opener.open(f"http://{dns}:8080/").read().decode() == f"p1 {instance}"
    try:
        opener.open(f"http://{dns}:9999/")
        raise AssertionError("a port with no listener answered")
    except urllib.error.HTTPError as error:
        assert error.code == 502 and b"no load balancer listens at" in error.read()


def test_targets_join_and_leave_without_a_reload_or_a_dropped_connection(simulator):
    """An ALB loses no request when its group grows or shrinks. The simulator once reloaded haproxy
    on every registration, and a reload drops client connections (a burst while prod scaled out
    saw "Connection reset by peer"): targets now join and leave over haproxy's admin socket."""
    import http.client
    import threading
    elb, vpc, subnets, instances = launch(simulator, 5)
    for instance in instances:
        serve_release(simulator, instance, "r1")
    balancer = elb.create_load_balancer(Name="grows", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(Name="grows", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckPath="/health.php",
                                    HealthCheckIntervalSeconds=5, HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instances[0]}])
    eventually(lambda: states(elb, group).get(instances[0]) == "healthy")
    url = next(item["url"] for item in status(simulator)["loadBalancers"] if item["name"] == "grows")

    def haproxy_pid():
        return next(line.split(": ")[1] for line in admin(simulator, "grows", "show info").splitlines() if line.startswith("Pid: "))

    def haproxy_servers():
        lines = admin(simulator, "grows", "show servers state").splitlines()[2:]
        return {line.split()[3] for line in lines if len(line.split()) > 3}

    pid = haproxy_pid()
    failures, answered, stop = [], [0], threading.Event()
    port = int(url.rsplit(":", 1)[1].split("/")[0])

    def hammer():
        # Keep-alive, as browsers and load balancers' clients are: a reload closing idle client
        # connections shows here as a reset or a disconnect.
        connection = None
        while not stop.is_set():
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/")
                response = connection.getresponse()
                body = response.read().decode()
                if response.status == 200 and body.startswith("r1 "):
                    answered[0] += 1
                else:
                    failures.append(f"{response.status}: {body[:100]}")
            except Exception as error:          # noqa: BLE001 - every failure is the finding
                failures.append(repr(error))
                connection.close()
                connection = None
            time.sleep(0.04)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for instance in instances[1:]:
            elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance}])
            eventually(lambda: states(elb, group).get(instance) == "healthy")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert answered[0] > 100 and failures == [], (answered[0], failures[:5])
    assert haproxy_pid() == pid           # targets came and went at run time: no reload, as on an ALB
    elb.deregister_targets(TargetGroupArn=group, Targets=[{"Id": instances[1]}])
    assert eventually(lambda: instances[1] not in states(elb, group))
    assert haproxy_pid() == pid
    # Gone from haproxy too, and the rest share the traffic.
    assert eventually(lambda: instances[1] not in haproxy_servers())
    answers = {urllib.request.urlopen(url).read().decode() for _ in range(12)}
    assert answers == {f"r1 {instance}" for instance in instances if instance != instances[1]}
