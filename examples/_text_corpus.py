"""A small real text corpus with a domain shift, built offline from Python's standard library.

Texts are the docstrings of the modules, classes and functions of the standard
library's own ``.py`` files (read with :mod:`ast`; nothing is imported or run),
so every machine with the same Python has the same corpus and nothing is
downloaded or shipped. The task is the topic of a docstring, one of six:

==========================  ==================================  =====================================
topic                       source modules                      target modules
==========================  ==================================  =====================================
internet protocols          http.*, urllib.*, socketserver      smtplib, ftplib, imaplib, poplib,
                                                                nntplib
concurrency                 threading, queue, subprocess,       multiprocessing.*, asyncio.*
                            sched, concurrent.futures.*
files and archives          os, shutil, pathlib, tempfile,      zipfile, tarfile, gzip, bz2, lzma,
                            glob, fnmatch, filecmp, ...         _compression, zipapp
numbers                     fractions, statistics, numbers,     _pydecimal (the decimal module)
                            random
testing and debugging       unittest.*, doctest                 pdb, bdb, trace, profile, pstats,
                                                                timeit, traceback, tracemalloc
data formats                json.*, csv, configparser,          xml.etree.*, xml.dom.*, xml.sax.*
                            plistlib, tomllib.*, pickle, ...
==========================  ==================================  =====================================

Source and target hold the same topics written about *different modules*
(as in the cross-domain 20 Newsgroups tasks, where the classes stay and the
sub-groups change): a model that learnt that "socket" and "HTTP" mean
networking has to recognise "mailbox" and "SMTP" too. Each docstring is
whitespace-normalised and cut at a word boundary to at most ``max_chars``
characters; docstrings under 40 characters, and texts found under two topics
or in both domains, are dropped. Each (topic, domain) keeps at most
``per_topic`` texts, a sorted, seeded random selection, so the corpus is
deterministic for a given Python version (missing modules, e.g. ``nntplib``
after Python 3.12, are skipped).

Run ``python examples/_text_corpus.py`` to print its size and a few texts.
"""

from __future__ import annotations

import ast
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: topic -> (source file globs, target file globs), relative to the standard library folder
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "internet protocols": (
        ["http/client.py", "http/server.py", "http/cookiejar.py", "urllib/request.py", "urllib/parse.py",
         "socketserver.py"],
        ["smtplib.py", "ftplib.py", "imaplib.py", "poplib.py", "nntplib.py"],
    ),
    "concurrency": (
        ["threading.py", "queue.py", "subprocess.py", "sched.py", "concurrent/futures/*.py",
         "_threading_local.py"],
        ["multiprocessing/*.py", "asyncio/*.py"],
    ),
    "files and archives": (
        ["os.py", "shutil.py", "pathlib.py", "tempfile.py", "glob.py", "fnmatch.py", "filecmp.py",
         "genericpath.py", "posixpath.py", "fileinput.py"],
        ["zipfile.py", "tarfile.py", "gzip.py", "bz2.py", "lzma.py", "_compression.py", "zipapp.py"],
    ),
    "numbers": (
        ["fractions.py", "statistics.py", "numbers.py", "random.py"],
        ["_pydecimal.py"],
    ),
    "testing and debugging": (
        ["unittest/*.py", "doctest.py"],
        ["pdb.py", "bdb.py", "trace.py", "profile.py", "pstats.py", "timeit.py", "cProfile.py",
         "traceback.py", "tracemalloc.py"],
    ),
    "data formats": (
        ["json/*.py", "csv.py", "configparser.py", "plistlib.py", "tomllib/*.py", "netrc.py", "pickle.py",
         "base64.py"],
        ["xml/etree/*.py", "xml/dom/*.py", "xml/sax/*.py"],
    ),
}


@dataclass
class TextDomains:
    """Source and target texts with their topic ids (indices into ``topics``)."""

    X_source: list[str]
    y_source: np.ndarray
    X_target: list[str]
    y_target: np.ndarray
    topics: list[str]


def _docstrings(path: Path, max_chars: int) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            text = " ".join(doc.split()) if doc else ""
            if len(text) >= 40:
                out.append(text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0])
    return out


def _texts(patterns: list[str], lib: Path, max_chars: int) -> set[str]:
    files = sorted({f for p in patterns for f in lib.glob(p)})
    return {t for f in files for t in _docstrings(f, max_chars)}


def load_stdlib_topics(per_topic: int = 100, *, max_chars: int = 400, seed: int = 0) -> TextDomains:
    """The corpus described in the module docstring."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    found = {(topic, d): _texts(globs, lib, max_chars)
             for topic, both in TOPICS.items() for d, globs in enumerate(both)}
    seen: dict[str, int] = {}
    for texts in found.values():
        for t in texts:
            seen[t] = seen.get(t, 0) + 1
    rng = np.random.default_rng(seed)
    X: list[list[str]] = [[], []]
    y: list[list[int]] = [[], []]
    for k, topic in enumerate(TOPICS):
        for d in (0, 1):
            texts = sorted(t for t in found[topic, d] if seen[t] == 1)
            if len(texts) > per_topic:
                texts = [texts[i] for i in np.sort(rng.choice(len(texts), per_topic, replace=False))]
            X[d] += texts
            y[d] += [k] * len(texts)
    return TextDomains(X[0], np.array(y[0]), X[1], np.array(y[1]), list(TOPICS))


def main() -> None:
    data = load_stdlib_topics()
    print(f"Python standard library docstrings from {sysconfig.get_paths()['stdlib']}")
    for name, X, y in (("source", data.X_source, data.y_source), ("target", data.X_target, data.y_target)):
        counts = ", ".join(f"{t}: {n}" for t, n in zip(data.topics, np.bincount(y, minlength=len(data.topics))))
        print(f"{name}: {len(X)} texts, median {int(np.median([len(t) for t in X]))} characters ({counts})")
    for k, topic in enumerate(data.topics):
        print(f"- {topic} (target): {data.X_target[int(np.flatnonzero(data.y_target == k)[0])][:100]}")


if __name__ == "__main__":
    main()
