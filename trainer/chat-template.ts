/**
 * The one chat format, used by SFT, DPO, chat and their evaluations alike:
 *
 *   <|endoftext|> <|user|> question <|end|> <|assistant|> answer <|end|> <|user|> ...
 *
 * The special tokens are added to a trained tokenizer by `refinery tokenizer add-special`; text
 * is never encoded to them, so a message that contains "<|end|>" cannot end a turn. Training
 * marks which tokens are the model's to predict: an assistant's answer and the <|end|> that
 * closes it (everything else, the prompt and the role markers, is given).
 */
import { UserError } from '../pipeline/core/errors.js';
import { END_OF_TEXT, type Tokenizer } from '../pipeline/tokenize/tokenizer.js';

export const USER = '<|user|>';
export const ASSISTANT = '<|assistant|>';
export const END = '<|end|>';
export const CHAT_SPECIALS = [USER, ASSISTANT, END] as const;

export interface Message {
  role: 'user' | 'assistant';
  content: string;
}

/** The ids of the chat tokens, or a clear error naming the command that adds them. */
export function chatTokens(tok: Tokenizer, where: string): { user: number; assistant: number; end: number; eot: number | undefined } {
  const missing = CHAT_SPECIALS.filter((n) => !tok.specials.has(n));
  if (missing.length) {
    throw new UserError(`${where}: the tokenizer has no ${missing.join(', ')}; add them with: refinery tokenizer add-special ${CHAT_SPECIALS.map((n) => `"${n}"`).join(' ')} --tokenizer T --output T2`);
  }
  return { user: tok.special(USER), assistant: tok.special(ASSISTANT), end: tok.special(END), eot: tok.specials.get(END_OF_TEXT) };
}

export interface EncodedChat {
  ids: number[];
  /** 1 where the token is the model's to predict (assistant text and its <|end|>), else 0. */
  trained: Uint8Array;
}

/** A conversation's tokens; with `open`, it ends with an <|assistant|> marker awaiting the answer. */
export function encodeChat(tok: Tokenizer, messages: readonly Message[], open = false): EncodedChat {
  const t = chatTokens(tok, 'chat template');
  const ids: number[] = t.eot === undefined ? [] : [t.eot];
  const trained: number[] = ids.map(() => 0);
  const push = (xs: number[], train: number) => {
    for (const x of xs) {
      ids.push(x);
      trained.push(train);
    }
  };
  for (const m of messages) {
    const assistant = m.role === 'assistant';
    push([assistant ? t.assistant : t.user], 0);
    push(tok.encode(m.content), assistant ? 1 : 0);
    push([t.end], assistant ? 1 : 0);
  }
  if (open) push([t.assistant], 0);
  return { ids, trained: Uint8Array.from(trained) };
}

/**
 * One record of conversations.jsonl: {"messages": [{"role", "content"}, ...]} (system messages
 * are read as user text) or {"prompt", "response"}.
 */
export function parseConversation(record: unknown, where: string): Message[] {
  const j = (record ?? {}) as { messages?: unknown; prompt?: unknown; response?: unknown };
  if (typeof j.prompt === 'string' && typeof j.response === 'string') {
    return [
      { role: 'user', content: j.prompt },
      { role: 'assistant', content: j.response },
    ];
  }
  if (!Array.isArray(j.messages)) throw new UserError(`${where}: expected {"messages": [{"role", "content"}, ...]} or {"prompt", "response"}`);
  const out = parseMessages(j.messages, where);
  if (!out.some((m) => m.role === 'assistant')) throw new UserError(`${where}: no assistant message to learn from`);
  return out;
}

/** A list of {"role", "content"} (system read as user). */
export function parseMessages(list: unknown[], where: string): Message[] {
  return list.map((m: unknown, i) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof content !== 'string') throw new UserError(`${where}: message ${i} has no text "content"`);
    if (role === 'assistant') return { role: 'assistant' as const, content };
    if (role === 'user' || role === 'system') return { role: 'user' as const, content };
    throw new UserError(`${where}: message ${i} has role ${JSON.stringify(role)} (expected user, assistant or system)`);
  });
}
