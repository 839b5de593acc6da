"""Shell and SQL commands in an answer: found, wrapped in backticks, and judged for risk.

An answer quotes commands from labels (investigation tools, resolution steps) or a model writes its
own. Label text is data anyone with write access to ``labels/`` controls, so a command is never
presented as advice without a look at what it does:

- ``destructive``: deletes or overwrites data or whole objects (``rm -rf``, ``kubectl delete ns``,
  ``DROP TABLE``, ``TRUNCATE``, ``mkfs``, ``dd of=/dev/...``, ``helm uninstall``, ``terraform destroy``,
  ``FLUSHALL``, ``git push --force``, ``curl … | sh`` (code fetched and run unseen)...);
- ``outbound``: sends data to or fetches code from a host outside the cluster and private networks
  (``curl``/``wget``/``nc``/``scp``/``ssh`` to anything but localhost, private IPs, ``*.svc``,
  ``*.cluster.local``, ``*.internal``, ``*.local`` or a dotless service name).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

Risk = Literal["destructive", "outbound"]

PROGRAMS = (
    "kubectl|helm|curl|wget|rm|psql|mysql|redis-cli|etcdctl|systemctl|docker|crictl|aws|gcloud|az|iptables"
    "|dd|mkfs(?:\\.\\w+)?|nc|ncat|ssh|scp|rsync|terraform|git|chmod|chown|kill|pkill|killall|sysctl|ip|ss"
    "|tcpdump|dig|nslookup|jcmd|jstack|jmap|istioctl|linkerd|vault|consul|nodetool|kafka-[\\w-]+|mongo(?:sh)?"
    "|redis|sh|bash|python3?|sudo"
)
COMMAND = re.compile(
    r"(?:(?<=^)|(?<=[\s:;(\"'`]))((?:sudo\s+)?(?:" + PROGRAMS + r")\s+[^\s;`\"'\n][^;`\"\n]*)",
    re.MULTILINE,
)
SQL = re.compile(
    r"(?:(?<=^)|(?<=[\s:;(\"'`]))((?:SELECT|UPDATE|DELETE\s+FROM|DROP|TRUNCATE|ALTER|VACUUM|REINDEX|CREATE"
    r"\s+(?:UNIQUE\s+)?INDEX|GRANT|INSERT\s+INTO)\s[^;`\"\n]*)"
)
BACKTICKED = re.compile(r"`([^`\n]+)`")
# Prose words that follow a program name ("git history", "helm charts") do not make a command; an
# unquoted run counts only with an argument-like token (a flag, a path, a key=value, a URL...).
NOT_ARGS = re.compile(r"^\S+\s+(?:is|are|was|were|and|or|the|of|to|in|on|for|with|charts?|history)\b", re.I)
ARGUMENT = re.compile(r"(?:^|\s)-{1,2}\w|[/=<>|@$*]|://|\S\.\S")
CITATION_OR_NOTE = re.compile(r"\s+[\[(]")

DESTRUCTIVE = re.compile(
    r"\brm\s+(?:-\w*[rRf]\w*\s+)+"
    r"|\bkubectl\s+(?:\S+\s+)*?delete\s+(?:ns|namespaces?|pv|pvc|persistentvolumes?(?:claims?)?|crds?"
    r"|customresourcedefinitions?|nodes?|secrets?|all)\b|\bkubectl\s+delete\b.*(?:--all\b|\s-A\b)"
    r"|\bdrop\s+(?:table|database|schema|keyspace|index)\b|\btruncate\s+(?:table\s+)?\w"
    r"|\bdelete\s+from\s+\w+(?![^;]*\bwhere\b)|\bmkfs\b|\bdd\s+.*\bof=/dev/|>\s*/dev/[sh]d"
    r"|\bhelm\s+(?:uninstall|delete)\b|\bterraform\s+destroy\b|\betcdctl\s+(?:\S+\s+)*?del\b"
    r"|\bflushall\b|\bflushdb\b|\bgit\s+push\s+.*(?:--force\b|\s-f\b)|\bgit\s+reset\s+--hard\b"
    r"|\bdocker\s+(?:system|volume)\s+prune\b|\bchmod\s+-R\s+777\s+/|\baws\s+s3\s+(?:rm|rb)\b"
    r"|:\(\)\s*\{|\b(?:curl|wget)\b[^|\n]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
    re.IGNORECASE,
)
OUTBOUND_PROGRAMS = re.compile(r"\b(?:curl|wget|nc|ncat|scp|ssh|rsync|ftp|telnet)\b", re.IGNORECASE)
URL_HOST = re.compile(r"\b(?:https?|ftp|s3)://(?:[^@/\s]+@)?(\[[^\]]+\]|[^:/\s?#]+)", re.IGNORECASE)
USER_HOST = re.compile(r"\b[\w.-]+@([\w.-]+)")
INTERNAL_SUFFIXES = (".svc", ".cluster.local", ".internal", ".local", ".localdomain", ".lan")


def find_commands(text: str) -> list[str]:
    """Commands in ``text``: backticked spans, and runs that start with a known program or SQL verb."""
    found: list[str] = []
    for m in BACKTICKED.finditer(text):
        found.append(m.group(1).strip())
    rest = BACKTICKED.sub(" ", text)
    for pattern in (COMMAND, SQL):
        for m in pattern.finditer(rest):
            command = _trim(m.group(1))
            plausible = pattern is SQL or ARGUMENT.search(command) or DESTRUCTIVE.search(command)
            if " " in command and plausible and not NOT_ARGS.match(command) and command not in found:
                found.append(command)
    return found


def _trim(command: str) -> str:
    """The command without what follows it: a citation, a note in parentheses, a closing bracket."""
    command = CITATION_OR_NOTE.split(command, maxsplit=1)[0]
    depth = 0
    for n, ch in enumerate(command):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            command = command[:n]
            break
    return command.strip().rstrip(".,;:")


def internal(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host or host == "localhost" or host.endswith(INTERNAL_SUFFIXES)
    return ip.is_private or ip.is_loopback or ip.is_link_local


def assess(command: str) -> list[Risk]:
    risks: list[Risk] = []
    if DESTRUCTIVE.search(command):
        risks.append("destructive")
    if OUTBOUND_PROGRAMS.search(command):
        hosts = URL_HOST.findall(command) + USER_HOST.findall(command)
        if any(not internal(h) for h in hosts):
            risks.append("outbound")
    return risks


def mark(text: str, commands: list[str]) -> str:
    """``text`` with each command in backticks, and a flag after the risky ones."""
    for command in commands:
        risks = assess(command)
        flag = f" (flagged: {' and '.join(risks)} — review before running)" if risks else ""
        quoted = f"`{command}`"
        if quoted in text:
            text = text.replace(quoted, quoted + flag, 1) if flag else text
        else:
            text = text.replace(command, quoted + flag, 1)
    return text
