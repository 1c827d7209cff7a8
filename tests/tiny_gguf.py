"""A deterministic llama-architecture GGUF of ~0.5 MB that always gives the same reply.

Tests need a real model served by a real llama.cpp server, but downloading one is not an
option and the packaged SmolLM2 is too slow and too unpredictable to assert on. This model
is built in milliseconds with the ``gguf`` package.

How it stays deterministic whatever the prompt:

* every block's attention-output and FFN-down weights are zero, so the residual stream
  at the last position carries only that token's embedding;
* each token's embedding is a one-hot vector naming the token that must come *next*:
  any token outside the reply points at the reply's first piece, piece ``i`` points at
  piece ``i + 1`` and the last piece points at ``</s>``;
* the output matrix turns that one-hot vector into one large logit.

Generation therefore walks the chain ``piece_0 → piece_1 → … → </s>`` and stops. The
reply's pieces must be distinct tokens, which is why they are whole words. Each piece is
its own token, so a streaming client sees one chunk per word.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_BLOCKS = 2
# llama.cpp needs the prompt to fit; with a byte-level vocabulary each character is one
# token, so the 512 of the original recipe is too small for a real answer prompt.
DEFAULT_CTX = 4096
LOGIT = 50.0  # after RMS-norm the one-hot entry is sqrt(N_EMBD) = 8; 8 * 50 dwarfs noise

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

UNK, BOS, EOS = 0, 1, 2


def reply_pieces(reply: str) -> list[str]:
    """SentencePiece pieces for ``reply``: whole words, ``▁`` marking a preceding space.

    The first word has no ``▁`` so the detokenised reply has no leading space.
    """
    words = reply.split()
    if not words:
        raise ValueError("the reply needs at least one word")
    pieces = [words[0]] + ["▁" + w for w in words[1:]]
    if len(set(pieces)) != len(pieces):
        raise ValueError(f"the reply's words must be distinct: {reply!r}")
    if len(pieces) + 1 > N_EMBD:
        raise ValueError(f"at most {N_EMBD - 1} words fit in width {N_EMBD}")
    return pieces


def _vocabulary(pieces: list[str]) -> tuple[list[str], list[float], list[int]]:
    """``<unk> <s> </s>``, the 256 byte tokens, then the reply's pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + pieces
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * len(pieces)
    scores = [0.0] * (3 + 256) + [-1.0] * len(pieces)
    return tokens, scores, [int(t) for t in types]


def _chain_weights(n_vocab: int, first_piece: int, n_pieces: int) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings and output matrix that make token ``t`` predict the next reply token.

    Dimension 0 means "predict piece 0"; dimension ``i + 1`` means "predict what follows
    piece ``i``" (piece ``i + 1``, or ``</s>`` after the last one).
    """
    embd = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    out = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    embd[:, 0] = 1.0
    for i in range(n_pieces):
        tok = first_piece + i
        embd[tok, 0] = 0.0
        embd[tok, i + 1] = 1.0
    out[first_piece, 0] = LOGIT
    for i in range(1, n_pieces):
        out[first_piece + i, i] = LOGIT
    out[EOS, n_pieces] = LOGIT
    return embd, out


def _blocks(writer: gguf.GGUFWriter) -> None:
    """Blocks that leave the residual stream untouched (zero output projections)."""
    rng = np.random.default_rng(0)
    for b in range(N_BLOCKS):
        p = f"blk.{b}."
        ones = np.ones(N_EMBD, dtype=np.float32)
        writer.add_tensor(p + "attn_norm.weight", ones)
        writer.add_tensor(p + "ffn_norm.weight", ones.copy())
        for name in ("attn_q", "attn_k", "attn_v"):
            w = rng.normal(0.0, 0.02, (N_EMBD, N_EMBD)).astype(np.float32)
            writer.add_tensor(p + name + ".weight", w)
        writer.add_tensor(p + "attn_output.weight", np.zeros((N_EMBD, N_EMBD), np.float32))
        for name in ("ffn_gate", "ffn_up"):
            w = rng.normal(0.0, 0.02, (N_FF, N_EMBD)).astype(np.float32)
            writer.add_tensor(p + name + ".weight", w)
        writer.add_tensor(p + "ffn_down.weight", np.zeros((N_EMBD, N_FF), np.float32))


def build_tiny_gguf(path: Path, reply: str = "ok", context_length: int = DEFAULT_CTX) -> Path:
    """Write a model to ``path`` that answers every chat with exactly ``reply``."""
    pieces = reply_pieces(reply)
    tokens, scores, types = _vocabulary(pieces)
    first_piece = len(tokens) - len(pieces)
    embd, out = _chain_weights(len(tokens), first_piece, len(pieces))

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("pcc-tiny-test")
    writer.add_block_count(N_BLOCKS)
    writer.add_context_length(context_length)
    writer.add_embedding_length(N_EMBD)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(BOS)
    writer.add_eos_token_id(EOS)
    writer.add_unk_token_id(UNK)
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(CHATML)

    writer.add_tensor("token_embd.weight", embd)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", out)
    _blocks(writer)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":  # python tests/tiny_gguf.py OUT.gguf "reply words"
    import sys

    target = Path(sys.argv[1])
    build_tiny_gguf(target, sys.argv[2] if len(sys.argv) > 2 else "ok")
    print(target, target.stat().st_size)
