/**
 * The train/validation split, by a hash of the document id alone: the same document is on
 * the same side in every run, every stage and every copy (a mix repeats documents under
 * their id), so no document is ever in both.
 */
import { hashString } from './hash.js';

/** A number in [0, 1) fixed by the id. */
export const splitPoint = (id: string) => hashString(id, 0, id.length, 0x7a11d47e) / 4294967296;

export const inValidation = (id: string, share: number) => splitPoint(id) < share;
