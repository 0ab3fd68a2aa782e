"""PyTorch reference for bench/gpu.ts: the trainer's GPT (pre-LayerNorm blocks, causal attention,
tanh GELU MLP, tied output head, learned positions; nanoGPT's model) trained with AdamW on random
tokens, on CUDA when available, else the CPU. Prints one line: tokens/s of the timed steps.

    python3 bench/gpu-pytorch.py VOCAB CONTEXT D LAYERS HEADS BATCH STEPS f32|f16
"""
import sys
import time

import torch

from pytorch_gpt import GPT


def main():
    vocab, context, d, layers, heads, batch, steps = (int(a) for a in sys.argv[1:8])
    precision = sys.argv[8]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(1)
    model = GPT(vocab, context, d, layers, heads).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    scaler = torch.amp.GradScaler(device, enabled=precision == "f16")
    ids = torch.randint(0, vocab, (batch, context), device=device)
    targets = torch.randint(0, vocab, (batch, context), device=device)

    def step():
        with torch.autocast(device, dtype=torch.float16, enabled=precision == "f16"):
            loss = model(ids, targets)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    step()
    step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"{steps * batch * context / seconds:,.0f} tokens/s on {torch.cuda.get_device_name() if device == 'cuda' else 'CPU'}")


if __name__ == "__main__":
    main()
