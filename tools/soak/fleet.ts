import {
  type PgCluster,
  startPgCluster,
} from "../../test/harness/pg_cluster.ts";
import { describeError } from "./describe_error.ts";
import { type Instance, startInstance, stopInstance } from "./instance.ts";

const INSTANCE_NAMES = ["A", "B"];

/** The servers under test: a throwaway PostgreSQL and two instances sharing it. */
export interface Fleet {
  /** The instances started so far: all of them once `start` has resolved. */
  readonly instances: Instance[];
  /** Starts the cluster, then the instances side by side; rejects if any fails. */
  start(): Promise<{ cluster: PgCluster; instances: Instance[] }>;
  /** Stops every instance (see stopInstance). */
  stopInstances(selfExitMs: number): Promise<void>;
  /** Stops the cluster and removes its files, if it was started; never throws. */
  removeCluster(): Promise<void>;
}

/** A fleet with nothing started yet. */
export function createFleet(): Fleet {
  let cluster: PgCluster | null = null;
  const instances: Instance[] = [];
  return {
    instances,
    async start() {
      const started = await startPgCluster();
      cluster = started;
      console.error(
        `PostgreSQL ${started.version} on 127.0.0.1:${started.port}; starting two instances…`,
      );
      const databaseUrl = started.url;
      const results = await Promise.allSettled(
        INSTANCE_NAMES.map((name) => startInstance(name, databaseUrl)),
      );
      for (const r of results) {
        if (r.status === "fulfilled") instances.push(r.value);
      }
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      for (const i of instances) {
        console.error(`instance ${i.name}: ${i.url} (pid ${i.pid})`);
      }
      return { cluster: started, instances };
    },
    async stopInstances(selfExitMs) {
      await Promise.all(instances.map((i) => stopInstance(i, selfExitMs)));
    },
    async removeCluster() {
      await cluster?.stop().catch((error) =>
        console.error(
          `Could not remove the test cluster: ${describeError(error)}`,
        )
      );
    },
  };
}
