"""Prints the SIP load balancer's Kamailio arguments as the chart renders them, one per line, with
the pod address and the dispatcher list's path made local: chart checks run Kamailio's own config
check (kamailio -c) on deploy/sip-lb/kamailio.cfg with exactly these.

usage: sip_lb_args.py RENDERED_YAML LIST_OUT
"""
import sys

import yaml

rendered, list_out = sys.argv[1], sys.argv[2]
args = None
for doc in yaml.safe_load_all(open(rendered)):
    if not doc:
        continue
    name = doc.get("metadata", {}).get("name", "")
    if doc["kind"] == "ConfigMap" and name.endswith("-sip-lb"):
        with open(list_out, "w") as out:
            out.write(doc["data"]["dispatcher.list"])
    if doc["kind"] == "Deployment" and name.endswith("-sip-lb"):
        containers = doc["spec"]["template"]["spec"]["containers"]
        args = next(c["args"] for c in containers if c["name"] == "kamailio")
if args is None:
    sys.exit("no sip-lb Deployment in the rendering")
for arg in args:
    arg = arg.replace("$(POD_IP)", "127.0.0.1")
    if arg.startswith("DS_LIST="):
        arg = 'DS_LIST="%s"' % list_out
    print(arg)
