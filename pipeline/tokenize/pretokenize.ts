/**
 * GPT-2's pre-tokenisation (the regex Hugging Face's ByteLevel pre-tokenizer uses): contractions,
 * letters, digits and other marks each with at most one leading space, and whitespace runs,
 * the last space of which joins the next word. Every character lands in exactly one piece.
 */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Calls `piece` for each piece of `text`, in order. */
export function forEachPiece(text: string, piece: (p: string) => void): void {
  const re = new RegExp(GPT2_PATTERN.source, 'gu');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) piece(m[0]);
}
