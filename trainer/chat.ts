/**
 * `refinery chat`: talk to a chat checkpoint in the terminal. Each answer is decoded with the
 * key-value cache (generate.ts: one position per new token) until <|end|>, --max-tokens or the
 * end of the context; the conversation so far is the prompt of the next answer, its oldest
 * turns dropped when it no longer fits. /reset forgets the conversation, /exit (or end of
 * input) leaves. With --prompt: one answer on standard output, no terminal needed.
 */
import { createInterface } from 'node:readline';
import { UserError } from '../pipeline/core/errors.js';
import { Random } from '../pipeline/core/random.js';
import { Tokenizer } from '../pipeline/tokenize/tokenizer.js';
import { useBackend } from './backend.js';
import { END, chatTokens, encodeChat, type Message } from './chat-template.js';
import { loadCheckpoint } from './checkpoint.js';
import { continueIds, type Sampling } from './generate.js';
import { GPT } from './model.js';
import type { ChatConfig } from './post-options.js';

export class ChatSession {
  readonly history: Message[] = [];
  private readonly sampling: Sampling;
  private readonly end: number;

  constructor(
    private readonly model: GPT,
    private readonly tokenizer: Tokenizer,
    private readonly o: Pick<ChatConfig, 'max_tokens' | 'temperature' | 'top_k' | 'seed'>,
  ) {
    this.end = chatTokens(tokenizer, 'refinery chat').end;
    this.sampling = { temperature: o.temperature, top_k: o.top_k, random: new Random(o.seed) };
  }

  /** The model's answer to `text`, after the conversation so far (both then join it). */
  async answer(text: string): Promise<string> {
    this.history.push({ role: 'user', content: text });
    const T = this.model.config.context;
    // Room for at least a short answer: drop the oldest exchanges until the prompt leaves it.
    const room = Math.min(this.o.max_tokens, Math.max(8, T >> 2));
    let ids = encodeChat(this.tokenizer, this.history, true).ids;
    while (ids.length > T - room && this.history.length > 1) {
      this.history.splice(0, this.history[0].role === 'user' && this.history[1]?.role === 'assistant' ? 2 : 1);
      ids = encodeChat(this.tokenizer, this.history, true).ids;
    }
    if (ids.length >= T) ids = ids.slice(-(T - room));
    const r = await continueIds(this.model, ids, Math.min(this.o.max_tokens, T - ids.length), this.sampling, new Set([this.end]));
    const reply = this.tokenizer.decode(r.ids).trim();
    this.history.push({ role: 'assistant', content: reply });
    return reply;
  }

  reset(): void {
    this.history.length = 0;
  }
}

export async function openChat(o: ChatConfig): Promise<{ session: ChatSession; dispose: () => void; label: string }> {
  await useBackend(o.backend);
  const ck = loadCheckpoint(o.checkpoint, false);
  const file = o.tokenizer ?? ck.state.tokenizer;
  if (!file) throw new UserError(`${o.checkpoint}: the checkpoint does not name its tokenizer; give --tokenizer`);
  const tokenizer = Tokenizer.load(file);
  if (tokenizer.vocabSize !== ck.state.model.vocab_size) throw new UserError(`${file}: ${tokenizer.vocabSize} tokens, but the checkpoint's model has ${ck.state.model.vocab_size}; is it a chat checkpoint (refinery sft)?`);
  const model = new GPT(ck.state.model, ck.weights);
  const session = new ChatSession(model, tokenizer, o);
  return { session, dispose: () => model.dispose(), label: `${o.checkpoint} (${ck.state.model.layers} layers, d ${ck.state.model.d_model}, context ${ck.state.model.context})` };
}

/** The interactive loop on standard input and output. */
export async function chatLoop(o: ChatConfig): Promise<void> {
  const { session, dispose, label } = await openChat(o);
  try {
    if (o.prompt !== undefined) {
      process.stdout.write(`${await session.answer(o.prompt)}\n`);
      return;
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
    process.stdout.write(`chat: ${label}; answers end at ${END} or after ${o.max_tokens} tokens. /reset forgets the conversation, /exit leaves.\n`);
    rl.setPrompt('you> ');
    rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        session.reset();
        process.stdout.write('(conversation forgotten)\n');
      } else if (text) process.stdout.write(`model> ${await session.answer(text)}\n`);
      rl.prompt();
    }
    rl.close();
  } finally {
    dispose();
  }
}
