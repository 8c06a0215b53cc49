// A tiny Prometheus registry: enough for Plaza's handful of series without an
// npm dependency. Text exposition format 0.0.4.

/** Label values of one series, e.g. { kind: "post" }. */
export type Labels = Record<string, string>;

/** A value that only goes up. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** Current value of one series (tests). */
  get(labels?: Labels): number;
}

/** A value read when /metrics is scraped. */
export interface Gauge {
  set(value: number): void;
  get(): number;
}

/** Observations counted into cumulative buckets. */
export interface Histogram {
  observe(value: number): void;
  /** Number of observations (tests). */
  readonly count: number;
}

/** Holds metrics and renders them in Prometheus text format. */
export interface Registry {
  /** `seed` label sets are shown at 0 before their first event, so rate() sees the start. */
  counter(name: string, help: string, seed?: readonly Labels[]): Counter;
  /** `read`, when given, is called at scrape time instead of using set(). */
  gauge(name: string, help: string, read?: () => number): Gauge;
  histogram(name: string, help: string, buckets: readonly number[]): Histogram;
  /** The whole exposition, ending with a newline. */
  render(): string;
}

/** The Content-Type of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(
    /"/g,
    '\\"',
  );
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",")}}`;
}

/** Formats a sample value as Prometheus expects (+Inf, -Inf, NaN). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Creates an empty registry. */
export function createRegistry(): Registry {
  const renderers: (() => string)[] = [];
  const names = new Set<string>();
  const claim = (name: string) => {
    if (!NAME.test(name) || names.has(name)) {
      throw new Error(`Bad or repeated metric name: ${name}`);
    }
    names.add(name);
  };
  const header = (name: string, help: string, type: string) =>
    `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;

  return {
    counter(name, help, seed = [{}]) {
      claim(name);
      // Keyed by the rendered label set, which is sorted and so canonical.
      const series = new Map<string, number>(
        seed.map((labels) => [formatLabels(labels), 0]),
      );
      renderers.push(() => {
        let out = header(name, help, "counter");
        for (const [labels, value] of series) {
          out += `${name}${labels} ${formatValue(value)}\n`;
        }
        return out;
      });
      return {
        inc(labels = {}, by = 1) {
          if (by < 0) throw new Error("A counter cannot go down.");
          const key = formatLabels(labels);
          series.set(key, (series.get(key) ?? 0) + by);
        },
        get(labels = {}) {
          return series.get(formatLabels(labels)) ?? 0;
        },
      };
    },
    gauge(name, help, read) {
      claim(name);
      let value = 0;
      const current = () => (read ? read() : value);
      renderers.push(() =>
        `${header(name, help, "gauge")}${name} ${formatValue(current())}\n`
      );
      return {
        set(v) {
          value = v;
        },
        get: current,
      };
    },
    histogram(name, help, buckets) {
      claim(name);
      const bounds = [...buckets].sort((a, b) => a - b);
      // Per-bucket (not cumulative) counts; summed up when rendered.
      const counts = new Array<number>(bounds.length).fill(0);
      let count = 0;
      let sum = 0;
      renderers.push(() => {
        let out = header(name, help, "histogram");
        let cumulative = 0;
        bounds.forEach((le, i) => {
          cumulative += counts[i];
          out += `${name}_bucket{le="${formatValue(le)}"} ${cumulative}\n`;
        });
        out += `${name}_bucket{le="+Inf"} ${count}\n`;
        out += `${name}_sum ${formatValue(sum)}\n`;
        out += `${name}_count ${count}\n`;
        return out;
      });
      return {
        observe(value) {
          count++;
          sum += value;
          const i = bounds.findIndex((le) => value <= le);
          if (i >= 0) counts[i]++;
        },
        get count() {
          return count;
        },
      };
    },
    render() {
      return renderers.map((r) => r()).join("");
    },
  };
}

/** The kinds of request a rate limit can refuse, for plaza_rate_limited_total. */
export type RateLimitedKind = "post" | "typing" | "streams";

/** Plaza's own metrics; every part of the server gets them as a dependency. */
export interface PlazaMetrics {
  registry: Registry;
  messagesPosted: Counter;
  deliveries: Counter;
  slowClientsDropped: Counter;
  notifyToDelivery: Histogram;
  listenerReconnects: Counter;
  databaseErrors: Counter;
  rateLimited: Counter;
  streamsOpened: Counter;
  streamsClosed: Counter;
  /** Open streams on this instance, read at scrape time. */
  openStreams: Gauge;
}

/** Seconds; from a few ms (same machine) to the listener's back-fill after an outage. */
export const DELIVERY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** Creates Plaza's metrics; `openStreams` reads the hub's size when scraped. */
export function createPlazaMetrics(
  openStreams: () => number = () => 0,
): PlazaMetrics {
  const registry = createRegistry();
  return {
    registry,
    openStreams: registry.gauge(
      "plaza_open_streams",
      "Event streams open on this instance.",
      openStreams,
    ),
    streamsOpened: registry.counter(
      "plaza_streams_opened_total",
      "Event streams opened on this instance.",
    ),
    streamsClosed: registry.counter(
      "plaza_streams_closed_total",
      "Event streams ended on this instance, whatever the reason.",
    ),
    messagesPosted: registry.counter(
      "plaza_messages_posted_total",
      "Messages stored through POST /messages on this instance (201 only; idempotent repeats are not counted).",
    ),
    deliveries: registry.counter(
      "plaza_deliveries_total",
      "Messages handed to open streams (one per message per stream).",
    ),
    slowClientsDropped: registry.counter(
      "plaza_slow_clients_dropped_total",
      "Streams disconnected because the client fell too far behind.",
    ),
    // createdAt is set by the database clock with millisecond precision, so
    // this includes any clock skew between database and instance.
    notifyToDelivery: registry.histogram(
      "plaza_notify_to_delivery_seconds",
      "From a message's createdAt (database clock, ms precision) to this instance's hub publishing it.",
      DELIVERY_BUCKETS,
    ),
    listenerReconnects: registry.counter(
      "plaza_listener_reconnects_total",
      "Times the LISTEN session came back live after being down.",
    ),
    databaseErrors: registry.counter(
      "plaza_database_errors_total",
      "Database failures: requests answered 503, listener and presence errors.",
    ),
    rateLimited: registry.counter(
      "plaza_rate_limited_total",
      "Requests refused by a rate or stream limit, by kind (post, typing, report, streams, slow_mode).",
      [
        { kind: "post" },
        { kind: "typing" },
        { kind: "report" },
        { kind: "streams" },
        { kind: "slow_mode" },
      ],
    ),
  };
}
