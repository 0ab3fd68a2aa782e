/**
 * Dynamic loss scaling for 16-bit matrix products (--precision f16): the loss is multiplied by
 * `scale` before the backward pass so small gradients survive f16's range, and the gradients
 * divided by it after. A step whose gradients overflowed (a non-finite norm) is skipped and the
 * scale halved; after `interval` good steps in a row it doubles. PyTorch's GradScaler defaults.
 */
export class LossScaler {
  private good = 0;

  constructor(
    public scale = 2 ** 16,
    private readonly interval = 2000,
  ) {}

  /** After a step's gradients: whether to apply them (false: skip the update). */
  update(gradientsFinite: boolean): boolean {
    if (!gradientsFinite) {
      this.scale = Math.max(1, this.scale / 2);
      this.good = 0;
      return false;
    }
    if (++this.good >= this.interval) {
      this.scale *= 2;
      this.good = 0;
    }
    return true;
  }
}
