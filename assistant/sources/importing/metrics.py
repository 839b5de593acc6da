"""Metrics a document states as before → after: "p99 went from 150 ms to 2.5 s", "queue depth: 12 → 4,300",
"error rate rose to 21% from 0.2%", and a value that fell and came back ("launch success reaches 0%" …
"launch success back to 100%").

A metric is an observed value that got worse, not a setting someone changed: "raised the timeout from
3 to 6 seconds", "the disk is increased from 8000 to 12000", "bumped the node count to 80 from 60" are
configuration changes and are left out (a change verb with a configuration noun in the same sentence
before the figures). Numbers are only ever copied from the text; a value keeps the ">" or "<" it is
written with, and loses only a "~".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT = (
    r"%|ms|msec|s|sec|secs|seconds|min|mins|minutes|m|h|hr|hrs|hours|k|K|M|GB|GiB|MB|MiB|KB|KiB|TB|Gi|Mi|"
    r"rps|qps|req/s|requests/s|/s|x|cores?|ops/s"
)
VALUE = rf"(?<![\d.,])(?:[~≈]|[<>]=?)?\$?\d+(?:,\d{{3}})*(?:\.\d+)?(?:\s?(?:{_UNIT}))?(?![\w%/]|\.\d)"
_ABOUT = r"(?:about\s|around\s|roughly\s|approximately\s|over\s|more\sthan\s|less\sthan\s|nearly\s)?"
_PAIR = re.compile(
    rf"\bfrom\s{_ABOUT}(?P<b>{VALUE})\s(?:up\s|down\s)?to\s{_ABOUT}(?P<a>{VALUE})"
    rf"|\bto\s{_ABOUT}(?P<a3>{VALUE})\sfrom\s{_ABOUT}(?P<b3>{VALUE})"
    rf"|(?P<b2>{VALUE})\s?(?:→|->|=>|⇒|⟶)\s?(?P<a2>{VALUE})",
    re.IGNORECASE,
)
_FELL = re.compile(
    rf"\s(?:reaches|reached|hits|hit|drops\sto|dropped\sto|fell\sto|falls\sto|is\sat|was\sat|is\sdown\sto|"
    rf"went\sdown\sto|rises\sto|rose\sto|climbs\sto|climbed\sto|spikes\sto|spiked\sto)\s{_ABOUT}(?P<v>{VALUE})",
    re.IGNORECASE,
)
_BACK = re.compile(
    rf"\s(?:is\s|was\s|goes\s|went\s|returns\s|returned\s|comes\s|came\s|is\snow\s)?back\s(?:up\s|down\s)?to\s"
    rf"{_ABOUT}(?P<v>{VALUE})",
    re.IGNORECASE,
)
_NOUN_AFTER = re.compile(r"^\s([a-z][a-z0-9_-]{2,}(?:\s[a-z][a-z0-9_-]{2,})?)", re.IGNORECASE)
_VERBS = frozenset(
    "rose increased increase jumped spiked climbed grew went up dropped fell decreased degraded regressed "
    "changed surged doubled tripled moved shot was were is are had has have from the by rising growing "
    "dropping falling going climbing jumping spiking also all then grows climbs rises falls drops jumps "
    "spikes increases decreases goes scaled".split()
)
_LEADING = frozenset("the our its their a an and then all while with when as of in on at for".split())
_NOT_METRIC = re.compile(r"\b(version|upgrad\w*|release|kubernetes|k8s|v\d)\b", re.IGNORECASE)
_COUNTABLE_ONLY = frozenset("pods pod replicas replica nodes node instances connections threads".split())
CHANGE = re.compile(
    r"\b(?:rais(?:e|ed|es|ing)|increas(?:e|ed|es|ing)|bump(?:ed|s|ing)?|set(?:s|ting)?|chang(?:e|ed|es|ing)|"
    r"scal(?:e|ed|es|ing)|reduc(?:e|ed|es|ing)|lower(?:ed|s|ing)?|decreas(?:e|ed|es|ing)|resiz(?:e|ed|es|ing)|"
    r"adjust(?:ed|s|ing)?|tun(?:e|ed|es|ing)|doubl(?:e|ed|es|ing)|upp(?:ed|ing)|expand(?:ed|s|ing)?|"
    r"extend(?:ed|s|ing)?|shorten(?:ed|s|ing)?|configur(?:e|ed|es|ing)|updat(?:e|ed|es|ing))\b|"
    r"\b(?:we|they|i|team|on-call)\s(?:\w+\s)?(?:grew|added|gave)\b",
    re.IGNORECASE,
)
CONFIG_NOUN = re.compile(
    r"\b(?:timeouts?|limits?|quotas?|size|capacity|replicas|replica\scount|node\scount|nodes|pool\ssize|"
    r"retention|ttl|interval|threshold|batch\ssize|concurrency|max_\w+|min_\w+|heap|disks?|disk\s(?:space|size)|"
    r"volumes?|volume\ssize|partitions?|instance\stype|memory\s(?:limit|request)|cpu\s(?:limit|request)|workers|worker\scount|"
    r"parallelism|buffer|cache\ssize|connections?\slimit|autoscaling\sgroup)\b",
    re.IGNORECASE,
)
# Words that make a name an observation even next to a configuration noun ("disk usage", "pool wait time").
OBSERVED = re.compile(
    r"\b(?:usage|utili[sz]ation|latency|latencies|rate|errors?|load|queue|lag|time|duration|p\d\d|"
    r"percentile|throughput|depth|wait|hits?|misses|saturation|pressure|consumption)\b",
    re.IGNORECASE,
)
NAME_REACH = 160
"""How far before the figures a metric's name and a change verb are looked for (keeps reading linear)."""
RECENT = 50
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Metric:
    name: str
    before: str
    after: str
    sentence: str


def _metric_name(prefix: str) -> str:
    prefix = re.split(r"[,;(\n]", prefix.rstrip(" :="))[-1]
    prefix = re.split(r"[,;:(\n]|\s[-–—]\s|\band\b|\bwhile\b|\bwith\b|\bwhen\b|\bas\b", prefix)[-1]
    words = re.findall(r"[A-Za-z0-9][\w./-]*", prefix)
    while words and words[-1].lower() in _VERBS:
        words.pop()
    words = words[-5:]
    while words and (words[0].lower() in _LEADING or words[0].isdigit()):  # "14:00 Queue depth"
        words.pop(0)
    return " ".join(w.lower().removesuffix("'s") for w in words)


def _clean_value(value: str) -> str:
    return value.strip().lstrip("~≈").strip()


def is_configuration(prefix: str) -> bool:
    """Whether the words before a pair of figures say someone changed a setting ("raised the timeout",
    "the disk space is increased"), not that a measured value moved ("disk usage increased")."""
    if not (CHANGE.search(prefix) and CONFIG_NOUN.search(prefix)):
        return False
    return not OBSERVED.search(_metric_name(prefix))


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9%]+", "_", name.lower()).strip("_")


def _unit(value: str) -> str:
    return re.sub(r"[\d.,\s~≈<>=$]", "", value).lower()


def _pairs_in(sentence: str) -> list[Metric]:
    out: list[Metric] = []
    for m in _PAIR.finditer(sentence):
        before = _clean_value(m.group("b") or m.group("b2") or m.group("b3"))
        after = _clean_value(m.group("a") or m.group("a2") or m.group("a3"))
        prefix = sentence[max(0, m.start() - NAME_REACH) : m.start()]
        if (
            _NOT_METRIC.search(prefix[-40:])
            or re.fullmatch(r"(19|20)\d\d", before)
            or is_configuration(prefix)
        ):
            continue
        name = _metric_name(prefix)
        if not re.search(r"[a-z%]", after, re.IGNORECASE) or not name:
            noun = _NOUN_AFTER.match(sentence[m.end() :])
            if noun and (not name or noun.group(1).lower().split()[0] in _COUNTABLE_ONLY):
                name = (name + " " if name else "") + noun.group(1).lower()
        if name:
            out.append(Metric(name=_key(name), before=before, after=after, sentence=sentence.strip()))
    return out


def _same_metric(a: str, b: str) -> bool:
    wa, wb = _WORD.findall(a), _WORD.findall(b)
    return bool(wa and wb) and (set(wa) <= set(wb) or set(wb) <= set(wa) or len(set(wa) & set(wb)) >= 2)


def _came_back(sentences: list[str]) -> list[Metric]:
    """A value that fell (or rose) and a later "back to" the normal value of the same metric."""
    fell: list[tuple[str, str, str]] = []
    out: list[Metric] = []
    for sentence in sentences:
        for m in _FELL.finditer(sentence):
            if name := _metric_name(sentence[max(0, m.start() - NAME_REACH) : m.start()]):
                fell = [*fell[-RECENT:], (name, _clean_value(m.group("v")), sentence.strip())]
        for m in _BACK.finditer(sentence):
            name = _metric_name(sentence[max(0, m.start() - NAME_REACH) : m.start()])
            normal = _clean_value(m.group("v"))
            match = next(
                (f for f in fell if name and _same_metric(f[0], name) and _unit(f[1]) == _unit(normal)), None
            )
            if match and match[1] != normal:
                out.append(Metric(name=_key(name), before=normal, after=match[1], sentence=match[2]))
    return out


def find_metrics(text: str) -> list[Metric]:
    """Every metric ``text`` states as before → after (see the module docstring), in order, one per name."""
    sentences = [s for s in _SENTENCES.split(text) if s.strip()]
    found: dict[str, Metric] = {}
    for metric in [m for s in sentences for m in _pairs_in(s)] + _came_back(sentences):
        if metric.name and metric.name not in found:
            found[metric.name] = metric
    return list(found.values())
