"""Models by name: download once through huggingface_hub, cache, offline mode and safe loading.

Proven against a fake Hub on 127.0.0.1 (tests/fake_hub.py) that serves tiny checkpoints made
here by the reference library; ``HF_ENDPOINT`` points huggingface_hub at it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

_spec = importlib.util.spec_from_file_location("fake_hub", Path(__file__).with_name("fake_hub.py"))
fake_hub = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_hub)

ARCH = "BertForSequenceClassification"
REPO = "org/tiny-bert"


def go_online(monkeypatch, url: str, cache: Path) -> None:
    """Point huggingface_hub at the fake Hub and a fresh cache (it reads some settings at import time)."""
    import huggingface_hub.constants as constants
    from huggingface_hub.utils import reset_sessions

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    reset_sessions()  # sessions made while offline refuse every request


def go_offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture()
def hub(monkeypatch, tmp_path):
    server = fake_hub.FakeHub()
    url = server.start()
    go_online(monkeypatch, url, tmp_path / "cache")
    server.cache = tmp_path / "cache"
    yield server
    server.stop()
    from huggingface_hub.utils import reset_sessions

    reset_sessions()


@pytest.fixture(scope="module")
def tiny_dir(tiny_checkpoints):
    return tiny_checkpoints(ARCH)


def file_gets(server, filename: str) -> list:
    return [e for e in server.log if e[0] == "GET" and e[1].endswith("/" + filename) and "/resolve/" in e[1]]


def logits(model) -> torch.Tensor:
    ids = torch.tensor([[101, 7592, 2088, 102]])
    with torch.inference_mode():
        return model(input_ids=ids).logits


def snapshot_files(cache: Path, repo: str) -> dict[str, set[str]]:
    snaps = cache / ("models--" + repo.replace("/", "--")) / "snapshots"
    return {s.name: {p.relative_to(s).as_posix() for p in s.rglob("*") if p.is_file()} for s in snaps.iterdir()}


# --- download, cache, offline ---
def test_first_call_downloads_later_calls_use_the_cache(hub, tiny_dir, capfd, monkeypatch):
    import transformers

    monkeypatch.setenv("TQDM_POSITION", "-1")  # huggingface_hub's bars show on a terminal only; force them here

    from minformers import AutoModelForSequenceClassification

    sha = hub.push_folder(REPO, tiny_dir, **{"README.md": b"# not needed", "flax_model.msgpack": b"x" * 10})
    model = AutoModelForSequenceClassification.from_pretrained(REPO)
    ref = transformers.AutoModelForSequenceClassification.from_pretrained(tiny_dir).eval()
    torch.testing.assert_close(logits(model), logits(ref), atol=1e-5, rtol=0)
    assert "100%" in capfd.readouterr().err  # huggingface_hub's progress bars

    snap = hub.cache / "models--org--tiny-bert" / "snapshots" / sha
    assert (hub.cache / "models--org--tiny-bert" / "refs" / "main").read_text() == sha
    assert {p.name for p in snap.iterdir()} == {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt",
                                                "tokenizer_config.json", "special_tokens_map.json"}
    assert len(file_gets(hub, "model.safetensors")) == 1
    before = len(hub.log)
    AutoModelForSequenceClassification.from_pretrained(REPO)
    new = hub.log[before:]
    assert all(path.startswith("/api/") for _, path, _ in new), new  # only asks which commit main is

    hub.stop()  # the Hub goes away: the cached copy is used
    torch.testing.assert_close(logits(AutoModelForSequenceClassification.from_pretrained(REPO)), logits(ref))


def test_offline_mode_uses_the_cache_and_never_the_network(hub, tiny_dir, monkeypatch):
    from minformers import AutoConfig, AutoModelForSequenceClassification

    hub.push_folder(REPO, tiny_dir)
    AutoModelForSequenceClassification.from_pretrained(REPO)
    before = len(hub.log)
    go_offline(monkeypatch)
    assert AutoModelForSequenceClassification.from_pretrained(REPO).config.hidden_size == 32
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert AutoConfig.from_pretrained(REPO, local_files_only=True).hidden_size == 32
    assert len(hub.log) == before


@pytest.mark.parametrize("how", ["env", "local_files_only"])
def test_offline_with_nothing_cached_says_what_is_needed_and_how_to_get_it(hub, monkeypatch, how):
    from minformers import AutoModelForSequenceClassification

    kwargs = {}
    if how == "env":
        go_offline(monkeypatch)
    else:
        kwargs["local_files_only"] = True
    with pytest.raises(OSError) as err:
        AutoModelForSequenceClassification.from_pretrained("org/never-downloaded", **kwargs)
    message = str(err.value)
    for part in ("org/never-downloaded", "offline", "config.json", "model.safetensors",
                 "minformers download org/never-downloaded", "local folder"):
        assert part in message, message
    assert hub.log == []


def test_a_config_alone_does_not_download_the_weights(hub, tiny_dir):
    from minformers import AutoConfig

    hub.push_folder(REPO, tiny_dir)
    assert AutoConfig.from_pretrained(REPO).hidden_size == 32
    assert file_gets(hub, "config.json") and not file_gets(hub, "model.safetensors")


def test_a_new_revision_is_fetched_when_asked(hub, tiny_dir):
    from minformers import AutoConfig

    main = hub.push_folder(REPO, tiny_dir)
    config = json.loads((tiny_dir / "config.json").read_text())
    v2 = hub.push_folder(REPO, tiny_dir, branch="v2", **{"config.json": json.dumps({**config, "note": "v2"}).encode()})
    assert getattr(AutoConfig.from_pretrained(REPO), "note", None) is None
    assert AutoConfig.from_pretrained(REPO, revision="v2").note == "v2"
    assert AutoConfig.from_pretrained(REPO, revision=main[:10]).to_dict().get("note") is None  # a short commit hash
    refs = hub.cache / "models--org--tiny-bert" / "refs"
    assert (refs / "main").read_text() == main and (refs / "v2").read_text() == v2
    with pytest.raises(OSError, match="no revision 'v3'"):
        AutoConfig.from_pretrained(REPO, revision="v3")


def test_a_file_changed_on_the_hub_is_not_mixed_with_the_cached_copy(hub, tiny_dir):
    from minformers import AutoModelForSequenceClassification

    old = hub.push_folder(REPO, tiny_dir)
    AutoModelForSequenceClassification.from_pretrained(REPO)
    config = json.loads((tiny_dir / "config.json").read_text())
    changed = {**config, "id2label": {"0": "NO", "1": "YES"}, "label2id": {"NO": 0, "YES": 1}}
    new = hub.push_folder(REPO, tiny_dir, **{"config.json": json.dumps(changed).encode()})
    model = AutoModelForSequenceClassification.from_pretrained(REPO)  # main moved: the new commit, whole
    assert model.config.id2label == {0: "NO", 1: "YES"}
    snaps = snapshot_files(hub.cache, REPO)
    assert set(snaps) == {old, new} and snaps[old] == snaps[new]
    old_config = json.loads((hub.cache / "models--org--tiny-bert" / "snapshots" / old / "config.json").read_text())
    assert old_config.get("id2label") == config.get("id2label")  # the old snapshot is untouched
    assert len(file_gets(hub, "model.safetensors")) == 1  # unchanged weights are not fetched again

    # a server that changes a file without a new commit: the cached commit stays whole and consistent
    hub.commits[REPO][new]["config.json"] = json.dumps({**changed, "id2label": {"0": "A", "1": "B"}}).encode()
    assert AutoModelForSequenceClassification.from_pretrained(REPO).config.id2label == {0: "NO", 1: "YES"}
    # a commit is immutable in the cache: even a forced download does not relink that commit's file
    forced = AutoModelForSequenceClassification.from_pretrained(REPO, force_download=True)
    assert forced.config.id2label == {0: "NO", 1: "YES"}


def test_a_cut_off_download_is_never_used_and_resumes(hub, tiny_dir, monkeypatch):
    from minformers import AutoModelForSequenceClassification

    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)  # (10 MB > our file)
    sha = hub.push_folder(REPO, tiny_dir)
    hub.cut_off["model.safetensors"] = 10  # every attempt is cut half-way
    with pytest.raises(OSError, match="model.safetensors.*(incomplete|resume)"):
        AutoModelForSequenceClassification.from_pretrained(REPO)
    storage = hub.cache / "models--org--tiny-bert"
    assert not (storage / "snapshots" / sha / "model.safetensors").exists()
    assert [p.name for p in (storage / "blobs").glob("*.incomplete")]

    hub.cut_off.clear()
    model = AutoModelForSequenceClassification.from_pretrained(REPO)
    assert any(r and r != "bytes=0-" for _, _, r in file_gets(hub, "model.safetensors"))  # resumed, not restarted
    ref = AutoModelForSequenceClassification.from_pretrained(tiny_dir)
    torch.testing.assert_close(logits(model), logits(ref))
    assert not list((storage / "blobs").glob("*.incomplete"))


def test_missing_things_give_clear_errors(hub, tiny_dir, tmp_path):
    from minformers import AutoModelForSequenceClassification
    from minformers.hub import resolve_model_dir

    with pytest.raises(OSError, match="no model 'org/nothing-here'"):
        AutoModelForSequenceClassification.from_pretrained("org/nothing-here")
    # an index that lists a shard the repo does not have
    files = {p.name: p.read_bytes() for p in tiny_dir.iterdir()}
    del files["model.safetensors"]
    files["model.safetensors.index.json"] = json.dumps({"weight_map": {"w": "model-00001-of-00002.safetensors"}}).encode()
    hub.push("org/broken", files)
    with pytest.raises(OSError, match="no file 'model-00001-of-00002.safetensors'.*model.safetensors.index.json"):
        AutoModelForSequenceClassification.from_pretrained("org/broken")
    with pytest.raises(OSError, match="no file 'model.gguf'"):
        resolve_model_dir(REPO if REPO in hub.commits else "org/broken", filenames=["model.gguf"])


def test_legacy_short_names_follow_the_hubs_redirect(hub, tiny_dir, monkeypatch):
    from minformers import AutoModelForSequenceClassification

    hub.push_folder("google-bert/bert-base-uncased", tiny_dir)
    hub.aliases["bert-base-uncased"] = "google-bert/bert-base-uncased"
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased")
    assert model.config.hidden_size == 32
    assert any(e[1].startswith("/google-bert/bert-base-uncased/resolve/") for e in hub.log)
    assert (hub.cache / "models--bert-base-uncased" / "refs" / "main").is_file()  # cached under the name asked for
    go_offline(monkeypatch)  # either name finds it offline
    assert AutoModelForSequenceClassification.from_pretrained("google-bert/bert-base-uncased").config.hidden_size == 32


def test_sharded_safetensors_are_fetched_by_their_index_and_bin_is_skipped(hub, tiny_dir, tmp_path):
    import transformers

    from minformers import AutoModelForSequenceClassification

    ours = AutoModelForSequenceClassification.from_pretrained(tiny_dir)
    ours.save_pretrained(tmp_path / "sharded", max_shard_size="400KB")
    for name in ("tokenizer.json", "vocab.txt"):
        (tmp_path / "sharded" / name).write_bytes((tiny_dir / name).read_bytes())
    shards = sorted(p.name for p in (tmp_path / "sharded").glob("model-*.safetensors"))
    assert len(shards) > 1
    torch.save(ours.state_dict(), tmp_path / "sharded" / "pytorch_model.bin")
    sha = hub.push_folder("org/sharded", tmp_path / "sharded")
    model = AutoModelForSequenceClassification.from_pretrained("org/sharded")
    torch.testing.assert_close(logits(model), logits(ours))
    assert snapshot_files(hub.cache, "org/sharded")[sha] == {
        "config.json", "model.safetensors.index.json", "tokenizer.json", "vocab.txt", *shards}
    ref = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "sharded").eval()
    torch.testing.assert_close(logits(ref), logits(ours), atol=1e-5, rtol=0)


def test_gguf_files_are_fetched_only_when_asked(hub, tiny_dir):
    from minformers.hub import resolve_model_dir

    hub.push_folder(REPO, tiny_dir, **{"model-Q8_0.gguf": b"GGUF" + b"\0" * 60})
    folder = resolve_model_dir(REPO)
    assert not (folder / "model-Q8_0.gguf").exists() and (folder / "model.safetensors").is_file()
    folder = resolve_model_dir(REPO, filenames=["model-Q8_0.gguf"])
    assert (folder / "model-Q8_0.gguf").read_bytes().startswith(b"GGUF")
    with pytest.raises(ValueError, match="escape"):
        resolve_model_dir(REPO, filenames=["../../etc/passwd"])


def test_subfolder(hub, tiny_dir):
    from minformers import AutoModelForSequenceClassification

    files = {f"sub/{p.name}": p.read_bytes() for p in tiny_dir.iterdir()}
    hub.push("org/nested", files)
    model = AutoModelForSequenceClassification.from_pretrained("org/nested", subfolder="sub")
    assert model.config.hidden_size == 32


def test_pipeline_by_name(hub, tiny_dir):
    from minformers import pipeline

    hub.push_folder(REPO, tiny_dir)
    out = pipeline("text-classification", model=REPO)("hello world")
    assert out[0]["label"] in ("LABEL_0", "LABEL_1")


def test_the_reference_finds_our_cache_and_we_find_its(hub, tiny_dir, tmp_path, monkeypatch):
    from minformers import AutoModelForSequenceClassification

    hub.push_folder(REPO, tiny_dir)
    hub.push_folder("org/theirs", tiny_dir)
    AutoModelForSequenceClassification.from_pretrained(REPO)  # into our cache (hub.cache)
    theirs_cache = tmp_path / "theirs-cache"
    script = textwrap.dedent(f"""
        import transformers
        m = transformers.AutoModelForSequenceClassification.from_pretrained(
            {REPO!r}, cache_dir={str(hub.cache)!r}, local_files_only=True)
        t = transformers.AutoTokenizer.from_pretrained({REPO!r}, cache_dir={str(hub.cache)!r}, local_files_only=True)
        assert t("hello")["input_ids"] == [101, 7592, 102]
        m = transformers.AutoModelForSequenceClassification.from_pretrained(
            "org/theirs", cache_dir={str(theirs_cache)!r})
        print("ok")
    """)
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)
    env.pop("TRANSFORMERS_OFFLINE", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]
    hub.stop()
    go_offline(monkeypatch)
    model = AutoModelForSequenceClassification.from_pretrained("org/theirs", cache_dir=theirs_cache)
    ref = AutoModelForSequenceClassification.from_pretrained(tiny_dir)
    torch.testing.assert_close(logits(model), logits(ref))


# --- safety ---
def test_trust_remote_code_is_refused(tiny_dir):
    from minformers import AutoConfig, AutoModelForSequenceClassification, BertConfig

    for load in (AutoConfig.from_pretrained, AutoModelForSequenceClassification.from_pretrained,
                 BertConfig.from_pretrained):
        with pytest.raises(ValueError, match="trust_remote_code"):
            load(tiny_dir, trust_remote_code=True)
    assert AutoConfig.from_pretrained(tiny_dir, trust_remote_code=False).hidden_size == 32


@pytest.mark.parametrize("shard", ["../outside.safetensors", "/etc/passwd", "sub/../../x.safetensors", ""])
def test_shard_names_cannot_escape_the_model_folder(tmp_path, tiny_dir, shard):
    from minformers import AutoModelForSequenceClassification

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_bytes((tiny_dir / "config.json").read_bytes())
    (tmp_path / "outside.safetensors").write_bytes((tiny_dir / "model.safetensors").read_bytes())
    index = {"weight_map": {"bert.embeddings.word_embeddings.weight": shard}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(ValueError, match="refusing the file name"):
        AutoModelForSequenceClassification.from_pretrained(folder)


def test_a_hostile_index_on_the_hub_is_refused_before_downloading(hub, tiny_dir):
    from minformers import AutoModelForSequenceClassification

    files = {p.name: p.read_bytes() for p in tiny_dir.iterdir() if p.name != "model.safetensors"}
    files["model.safetensors.index.json"] = json.dumps({"weight_map": {"w": "../../../../etc/passwd"}}).encode()
    hub.push("org/hostile", files)
    with pytest.raises(ValueError, match="escapes the folder"):
        AutoModelForSequenceClassification.from_pretrained("org/hostile")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize("case", ["code", "truncated", "garbage", "not_a_dict"])
def test_hostile_or_broken_bin_files_are_refused(tmp_path, tiny_dir, case):
    from minformers import AutoModelForSequenceClassification

    folder = tmp_path / case
    folder.mkdir()
    (folder / "config.json").write_bytes((tiny_dir / "config.json").read_bytes())
    path = folder / "pytorch_model.bin"
    if case == "code":
        torch.save({"w": torch.ones(2), "x": _Evil()}, path)
        match = "Refusing to load.*run code"
    elif case == "truncated":
        torch.save({"w": torch.ones(1000)}, path)
        path.write_bytes(path.read_bytes()[:500])
        match = "corrupt"
    elif case == "garbage":
        path.write_bytes(pickle.dumps("hello") + b"\0" * 30)
        match = "pytorch_model.bin"
    else:
        torch.save([torch.ones(2)], path)
        match = "state dict"
    with pytest.raises(OSError, match=match):
        AutoModelForSequenceClassification.from_pretrained(folder)


@pytest.mark.parametrize("case", ["absurd_header", "claims_more_bytes", "truncated"])
def test_hostile_safetensors_are_refused_without_a_large_allocation(tmp_path, tiny_dir, case):
    import tracemalloc

    from minformers import AutoModelForSequenceClassification

    folder = tmp_path / case
    folder.mkdir()
    (folder / "config.json").write_bytes((tiny_dir / "config.json").read_bytes())
    path = folder / "model.safetensors"
    if case == "absurd_header":
        path.write_bytes(struct.pack("<Q", 2**60) + b"{}")
    elif case == "claims_more_bytes":
        header = json.dumps({"w": {"dtype": "F32", "shape": [10**9], "data_offsets": [0, 4 * 10**9]}}).encode()
        path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 64)
    else:
        path.write_bytes((tiny_dir / "model.safetensors").read_bytes()[:-1000])
    tracemalloc.start()
    try:
        with pytest.raises(OSError, match="model.safetensors"):
            AutoModelForSequenceClassification.from_pretrained(folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_hostile_gguf_files_are_refused(tmp_path):
    from minformers.weights.gguf_tensors import load_gguf_checkpoint as load
    cases = {
        "not_gguf": b"NOPE" + b"\0" * 60,
        "truncated": b"GGUF" + struct.pack("<I", 3) + b"\0" * 3,
        "absurd_counts": b"GGUF" + struct.pack("<IQQ", 3, 2**62, 2**62),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.gguf"
        path.write_bytes(data)
        with pytest.raises((OSError, ValueError)):
            load(path)


# --- saving ---
def test_save_pretrained_is_atomic(tmp_path, tiny_dir, monkeypatch):
    import minformers.weights.safetensors as serialization
    from minformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_dir)
    target = tmp_path / "saved"
    model.save_pretrained(target)
    (target / "tokenizer.json").write_bytes(b"{}")  # saved earlier by a tokenizer: must survive saves
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(serialization, "save_file", crash)  # config.json is written, then the weights fail
    model.config.id2label = {0: "changed", 1: "too"}
    with pytest.raises(RuntimeError, match="disk on fire"):
        model.save_pretrained(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]  # no half-written folder left behind

    monkeypatch.undo()
    model.save_pretrained(target, safe_serialization=False)
    names = sorted(p.name for p in target.iterdir())
    assert names == ["config.json", "pytorch_model.bin", "tokenizer.json"]  # stale model.safetensors removed
    assert json.loads((target / "config.json").read_text())["id2label"]["0"] == "changed"


def test_save_pretrained_shards_large_models_with_an_index(tmp_path, tiny_dir):
    import transformers

    from minformers import AutoModelForSequenceClassification
    from minformers.weights.saving import parse_size

    assert parse_size("5GB") == 5 * 10**9 and parse_size("200KB") == 200_000 and parse_size(1234) == 1234
    assert parse_size("2GiB") == 2 * 2**30
    with pytest.raises(ValueError):
        parse_size("lots")
    model = AutoModelForSequenceClassification.from_pretrained(tiny_dir)
    target = tmp_path / "sharded"
    model.save_pretrained(target, max_shard_size="300KB")
    shards = sorted(p.name for p in target.glob("model-*-of-*.safetensors"))
    assert len(shards) >= 2 and not (target / "model.safetensors").exists()
    assert all((target / s).stat().st_size <= 300_000 or s == shards[0] for s in shards)  # embeddings are one tensor
    index = json.loads((target / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == set(shards)
    assert index["metadata"]["total_size"] == sum(v.numel() * v.element_size() for v in model.state_dict().values())
    ref = transformers.AutoModelForSequenceClassification.from_pretrained(target).eval()
    torch.testing.assert_close(logits(ref), logits(model), atol=1e-5, rtol=0)
    again = AutoModelForSequenceClassification.from_pretrained(target)
    torch.testing.assert_close(logits(again), logits(model))
    model.save_pretrained(target)  # saving unsharded again removes the old shards
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.safetensors"]
