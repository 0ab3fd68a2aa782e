"""PyTorch CPU reference for `npm run bench -- train`: nanoGPT's model at the bench's shapes.

Same model as trainer/model.ts (learned positions, pre-LayerNorm blocks, tanh GELU, output head
tied to the token embedding), same AdamW settings, same batch; full training steps (forward,
backward, clip, AdamW), two untimed first. Prints one JSON line: {"tokens_per_s": ..., "tokens_per_cpu_s": ...}
(tokens per second of wall clock and per second of the process's CPU time).

    python3 bench/train_pytorch.py --vocab 8192 --context 256 --d 256 --layers 6 --heads 8 --batch 8 --threads 1 --steps 6
"""
import argparse
import json
import time

import torch

from pytorch_gpt import GPT


def main():
    a = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("vocab", "context", "d", "layers", "heads", "batch", "threads", "steps"):
        a.add_argument(f"--{name}", type=int, required=name != "steps", default=6)
    args = a.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = GPT(args.vocab, args.context, args.d, args.layers, args.heads)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith(("wte", "wpe"))]
    rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and not n.startswith(("wte", "wpe")))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    ids = torch.randint(0, args.vocab, (args.batch, args.context))
    targets = torch.randint(0, args.vocab, (args.batch, args.context))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    step()
    step()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    tokens = args.steps * args.batch * args.context
    print(json.dumps({"tokens_per_s": tokens / seconds, "tokens_per_cpu_s": tokens / cpu_seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
