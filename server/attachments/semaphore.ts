/** Runs at most `slots` tasks at once; the rest wait in order. */
export interface Semaphore {
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** A semaphore with `slots` places (decoding pictures: memory is the limit). */
export function createSemaphore(slots: number): Semaphore {
  let free = slots;
  const waiting: (() => void)[] = [];
  return {
    async run(task) {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
}
