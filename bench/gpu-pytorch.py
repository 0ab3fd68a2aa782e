"""PyTorch reference for bench/gpu.ts: the trainer's GPT (pre-LayerNorm blocks, causal attention,
tanh GELU MLP, tied output head, learned positions; nanoGPT's model) trained with AdamW on random
tokens, on CUDA when available, else the CPU. Prints one line: tokens/s of the timed steps.

    python3 bench/gpu-pytorch.py VOCAB CONTEXT D LAYERS HEADS BATCH STEPS f32|f16
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.attn(self.ln1(x)).split(d, dim=2)
        q, k, v = (t.view(B, T, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(d)

    def forward(self, ids, targets):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(T, device=ids.device))
        for b in self.blocks:
            x = b(x)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), targets.view(-1))


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
