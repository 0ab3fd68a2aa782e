/**
 * useBackend: the same request returns what is set up, a different one switches to it (never
 * the first backend kept forever), and tensors made before a switch stay usable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../trainer/backend.js';
import { loadNativeBlas } from '../trainer/native/index.js';
import { nativeKernels } from '../trainer/ops.js';

describe('useBackend', () => {
  it('switches on a different request and keeps the backend for the same one', async () => {
    const cpu = await useBackend('cpu', false);
    expect(cpu).toMatchObject({ name: 'cpu', blasThreads: 0, label: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(await useBackend('cpu', false)).toBe(cpu);
    const before = tf.tensor1d([1, 2, 3]);

    const wasm = await useBackend('wasm', false);
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    // A tensor from the previous backend moves over when used.
    expect(Array.from(tf.add(before, 1).dataSync())).toEqual([2, 3, 4]);

    const back = await useBackend('cpu', false);
    expect(back.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    before.dispose();
  });

  it('turns the native kernels on and off, and sets their threads, as asked', async () => {
    const built = loadNativeBlas() !== null;
    const on = await useBackend('cpu', true, 2);
    expect(nativeKernels()).toBe(built);
    expect(on.blasThreads).toBe(built ? 2 : 0);
    await useBackend('cpu', false);
    expect(nativeKernels()).toBe(false);
    const one = await useBackend('cpu', true, 1);
    expect(nativeKernels()).toBe(built);
    expect(one.blasThreads).toBe(built ? 1 : 0);
  });
});
