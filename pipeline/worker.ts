/**
 * A pool worker: receives tasks from the executor over IPC and runs them one at a time.
 * It exits when the parent disconnects.
 */
import { errorMessage } from './core/errors.js';
import type { WorkerMessage, WorkerRequest } from './core/executor.js';
import { runTask } from './core/stage.js';
import { loadStage } from './stage-modules.js';

const send = (msg: WorkerMessage) => process.send?.(msg);

process.on('message', (req: WorkerRequest) => {
  void (async () => {
    try {
      const stats = await runTask({
        stage: await loadStage(req.stage),
        config: req.config,
        configHash: req.configHash,
        task: req.task,
        out: req.out,
        maxPartBytes: req.maxPartBytes,
        compression: req.compression,
        attempt: req.attempt,
        onProgress: (docs, bytes) => send({ type: 'progress', docs, bytes }),
        onWarning: (message) => send({ type: 'warning', message }),
      });
      send({ type: 'done', stats });
    } catch (err) {
      send({ type: 'failed', error: errorMessage(err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
