import assert from "node:assert/strict";
import { createHub } from "../live/hub.ts";
import { messageChange } from "../store/change_feed.ts";
import { createPlazaMetrics, createRegistry, formatValue } from "./metrics.ts";

Deno.test("a counter renders HELP and TYPE lines, starts at 0 and adds up per label set", () => {
  const registry = createRegistry();
  const plain = registry.counter("x_total", "Things.\nMore.");
  const kinds = registry.counter("y_total", "By kind.", [{ kind: "a" }]);
  assert.equal(
    registry.render(),
    "# HELP x_total Things.\\nMore.\n# TYPE x_total counter\nx_total 0\n" +
      '# HELP y_total By kind.\n# TYPE y_total counter\ny_total{kind="a"} 0\n',
  );
  plain.inc();
  plain.inc({}, 2);
  kinds.inc({ kind: "a" });
  kinds.inc({ kind: 'b"\\' });
  const text = registry.render();
  assert.match(text, /^x_total 3$/m);
  assert.match(text, /^y_total\{kind="a"\} 1$/m);
  assert.match(text, /^y_total\{kind="b\\"\\\\"\} 1$/m);
  assert.equal(kinds.get({ kind: "a" }), 1);
  assert.throws(() => plain.inc({}, -1));
});

Deno.test("a gauge reads its source at render time", () => {
  const registry = createRegistry();
  let n = 1;
  registry.gauge("g", "Read.", () => n);
  const set = registry.gauge("h", "Set.");
  set.set(7);
  n = 5;
  assert.equal(
    registry.render(),
    "# HELP g Read.\n# TYPE g gauge\ng 5\n# HELP h Set.\n# TYPE h gauge\nh 7\n",
  );
});

Deno.test("a histogram's buckets are cumulative and end with +Inf, then _sum and _count", () => {
  const registry = createRegistry();
  const h = registry.histogram("d_seconds", "Delay.", [1, 0.1, 0.5]);
  for (const v of [0.05, 0.1, 0.3, 0.7, 3]) h.observe(v);
  assert.equal(
    registry.render(),
    [
      "# HELP d_seconds Delay.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="0.1"} 2',
      'd_seconds_bucket{le="0.5"} 3',
      'd_seconds_bucket{le="1"} 4',
      'd_seconds_bucket{le="+Inf"} 5',
      "d_seconds_sum 4.15",
      "d_seconds_count 5",
      "",
    ].join("\n"),
  );
});

Deno.test("a registry refuses bad and repeated names; values format as Prometheus expects", () => {
  const registry = createRegistry();
  registry.counter("ok_total", "Fine.");
  assert.throws(() => registry.counter("ok_total", "Again."));
  assert.throws(() => registry.gauge("bad-name", "Dash."));
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
});

Deno.test("Plaza's metrics: every series is present before any event, the hub counts deliveries and delay", async () => {
  const hub = createHub({ heartbeatMs: 60_000, metrics: undefined });
  const metrics = createPlazaMetrics(() => hub.size);
  const counted = createHub({ heartbeatMs: 60_000, metrics });
  const text = metrics.registry.render();
  for (
    const name of [
      "plaza_open_streams",
      "plaza_messages_posted_total",
      "plaza_deliveries_total",
      "plaza_slow_clients_dropped_total",
      "plaza_notify_to_delivery_seconds",
      "plaza_listener_reconnects_total",
      "plaza_database_errors_total",
      "plaza_rate_limited_total",
    ]
  ) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
  }
  for (const kind of ["post", "typing", "report", "streams", "slow_mode"]) {
    assert.match(
      text,
      new RegExp(`^plaza_rate_limited_total\\{kind="${kind}"\\} 0$`, "m"),
    );
  }
  let delivered!: () => void;
  const deliveredToAll = new Promise<void>((resolve) => (delivered = resolve));
  let deliveries = 0;
  const subscribers = [1, 2, 3].map(() => ({
    deliver() {
      if (++deliveries === 3) delivered();
    },
    end() {},
  }));
  for (const s of subscribers) counted.subscribe(s);
  counted.publish(messageChange({
    id: 1,
    author: "ada",
    text: "hi",
    createdAt: new Date(Date.now() - 200).toISOString(),
    clientId: null,
  }));
  // The hub writes at the end of the tick, and counts as it writes.
  await deliveredToAll;
  assert.equal(metrics.deliveries.get(), 3);
  assert.equal(metrics.notifyToDelivery.count, 1);
  assert.match(
    metrics.registry.render(),
    /^plaza_notify_to_delivery_seconds_bucket\{le="0.1"\} 0$/m,
  );
  assert.match(
    metrics.registry.render(),
    /^plaza_notify_to_delivery_seconds_bucket\{le="0.25"\} 1$/m,
  );
  for (const s of subscribers) counted.unsubscribe(s);
  counted.close();
  hub.close();
});
