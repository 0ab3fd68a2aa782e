/**
 * The WebGPU backend: @tensorflow/tfjs-backend-webgpu over Dawn's Node binding (the `webgpu`
 * package and its dawn.node). Both are optional dependencies, imported only here and only when
 * WebGPU is asked for or probed, so a machine without them (or without EGL) runs everything else.
 *
 * Dawn first tries the machine's native API (Vulkan on Linux): that is a real GPU. Where only
 * Mesa's CPU rasteriser exists, Dawn's Vulkan backend refuses it, but its OpenGL ES backend runs
 * on llvmpipe through a surfaceless EGL display, in WebGPU's "compatibility" feature level. That
 * software adapter is slower than the native CPU kernels, so it is used only when asked for
 * (`--backend webgpu`): CI checks the WebGPU path's correctness on it.
 *
 * tfjs's backend expects a browser: `navigator.gpu` and the GPUBufferUsage/GPUMapMode/...
 * constants as globals, which the binding provides. Reading a tensor synchronously needs an
 * OffscreenCanvas in tfjs's WebGPU backend, which Node has not: the trainer reads with
 * `await tensor.data()`, and a synchronous read says so instead of failing obscurely.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export interface WebGPUAdapter {
  /** "NVIDIA H100 80GB HBM3 (vulkan)" or "llvmpipe (OpenGL ES 3.2 Mesa 22.3.6)". */
  name: string;
  /** A CPU rasteriser (llvmpipe, lavapipe, SwiftShader) or Dawn's fallback adapter. */
  software: boolean;
  /** The adapter offers `shader-f16` (16-bit floats in shaders): what --precision f16 needs. */
  f16: boolean;
}

/** The subset of the WebGPU API used here (the binding's own types need @webgpu/types). */
interface GpuAdapterLike {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  requestDevice(d: object): Promise<GpuDeviceLike>;
}
interface GpuDeviceLike {
  addEventListener?(type: string, fn: (e: { error: { message: string } }) => void): void;
  lost: Promise<{ message: string }>;
}
interface GpuLike {
  requestAdapter(o?: object): Promise<GpuAdapterLike | null>;
}

const softwareNames = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render/i;

function describe(a: GpuAdapterLike, api: string): WebGPUAdapter {
  const i = a.info;
  const device = (i.device || i.description || i.architecture || i.vendor || 'unknown adapter').replace(/-+$/, '');
  const name = i.description && i.description !== device ? `${device} (${i.description.replace(/^OpenGL version /, '')})` : `${device} (${api})`;
  return { name, software: Boolean(i.isFallbackAdapter) || softwareNames.test(`${i.device} ${i.description} ${i.vendor}`), f16: a.features.has('shader-f16') };
}

/**
 * Whether a GPU could be here at all: on Linux a GPU shows as a device node (/dev/dri/renderD*,
 * /dev/nvidia*). Without one the probe is skipped: loading Dawn costs about half a second and
 * prints its own warnings, for nothing.
 */
function gpuDeviceNodes(): boolean {
  if (process.platform !== 'linux') return true;
  const has = (dir: string, prefix: string) => existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(prefix));
  return has('/dev/dri', 'renderD') || has('/dev', 'nvidia');
}

/** What is started: at most one device per process (tfjs keeps the backend it made). */
let started: Promise<WebGPUAdapter | null> | null = null;
/** Whether the latest probe accepted a software adapter (a probe that did not may be redone for one that does). */
let probedSoftware = false;

/**
 * Finds a WebGPU adapter and registers tfjs's "webgpu" backend on it. Null when the packages
 * are not installed, no adapter answers, or the only one is software and `allowSoftware` is
 * false; the reason goes to `why`.
 */
export function startWebGPU(allowSoftware: boolean, why: (reason: string) => void = () => {}): Promise<WebGPUAdapter | null> {
  if (started && (probedSoftware || !allowSoftware)) return started;
  probedSoftware = allowSoftware;
  // A real adapter found without the software one stays; only a failed or refused probe is redone.
  const previous = started;
  started = (async () => {
    const before = previous ? await previous : null;
    if (before) return before;
    if (!allowSoftware && !gpuDeviceNodes()) {
      why('no GPU device (no /dev/dri/renderD* or /dev/nvidia*)');
      return null;
    }
    let binding: { create(o: string[]): GpuLike; globals: Record<string, unknown> };
    let backendModule: { WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend };
    try {
      // Specifiers as values, so the build does not need the optional packages either.
      const [dawn, tfjsWebgpu] = ['webgpu', '@tensorflow/tfjs-backend-webgpu'];
      binding = (await import(dawn)) as typeof binding;
      backendModule = (await import(tfjsWebgpu)) as typeof backendModule;
    } catch (err) {
      why(`the optional packages webgpu and @tensorflow/tfjs-backend-webgpu are not installed (${(err as Error).message.split('\n')[0]})`);
      return null;
    }
    // tfjs-backend-webgpu registered nothing at import (no navigator.gpu yet): the factory below is the only one.
    for (const [k, v] of Object.entries(binding.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    let found: { gpu: GpuLike; adapter: GpuAdapterLike; info: WebGPUAdapter } | null = null;
    try {
      const gpu = binding.create([]);
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (adapter) found = { gpu, adapter, info: describe(adapter, 'native') };
    } catch {
      // No native API (no Vulkan loader, for one): the OpenGL ES path below may still work.
    }
    if (found?.info.software && !allowSoftware) {
      why(`the only WebGPU adapter is software (${found.info.name}), slower than the CPU kernels; ask for it with --backend webgpu`);
      return null;
    }
    if (!found && allowSoftware) {
      // Mesa's EGL without a display server; the user's own setting wins.
      process.env.EGL_PLATFORM ??= 'surfaceless';
      try {
        const gpu = binding.create(['backend=opengles']);
        const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
        if (adapter) found = { gpu, adapter, info: { ...describe(adapter, 'opengles'), software: true } };
      } catch (err) {
        why(`Dawn's OpenGL ES backend failed: ${(err as Error).message}`);
      }
    }
    if (!found) {
      why(allowSoftware ? 'no WebGPU adapter (on Linux without a GPU: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri for the software one)' : 'no hardware WebGPU adapter');
      return null;
    }
    const { adapter, info } = found;
    const l = adapter.limits;
    // The adapter's own limits, not WebGPU's defaults: tfjs sizes buffers and workgroups by the device's limits.
    const device = await adapter.requestDevice({
      requiredFeatures: info.f16 ? ['shader-f16'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      },
    });
    if (info.f16) {
      // WGSL wants `enable f16;` before anything else, and tfjs writes a shader's beginning itself:
      // the project's f16 kernels carry a marker, and the directive goes in front of those.
      const d = device as unknown as { createShaderModule(desc: { code: string }): unknown };
      const create = d.createShaderModule.bind(device);
      d.createShaderModule = (desc) => create(desc.code.includes('// refinery:f16') ? { ...desc, code: `enable f16;\n${desc.code}` } : desc);
    }
    // A shader or validation error would otherwise only show as wrong numbers.
    device.addEventListener?.('uncapturederror', (e) => process.stderr.write(`webgpu: ${e.error.message}\n`));
    const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as Record<string, unknown>;
    Object.defineProperty(nav, 'gpu', { value: found.gpu, configurable: true });
    const { WebGPUBackend } = backendModule;
    const proto = WebGPUBackend.prototype as unknown as { readSync(id: object): unknown; tensorMap: { get(id: object): { values: unknown } } };
    const readSync = proto.readSync;
    proto.readSync = function (this: typeof proto, dataId: object) {
      if (this.tensorMap.get(dataId)?.values == null) throw new Error('webgpu: a tensor was read synchronously (dataSync); on WebGPU read it with await tensor.data()');
      return readSync.call(this, dataId);
    };
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
    return info;
  })();
  return started;
}
