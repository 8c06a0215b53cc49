/** Generators of well-formed requests: valid posts and valid reads. */
import { encoder } from "./bytes.ts";
import type { Case, GenContext, Route } from "./cases.ts";
import { postCase, rawRequest } from "./requests.ts";
import type { Rng } from "./rng.ts";
import { FORM_TYPES, formOf, JSON_TYPES, messageFields } from "./text_pools.ts";

/** A valid post, as JSON or a form, sometimes raw or chunked. */
export function genValidPost(g: Rng, ctx: GenContext): Case {
  const fields = messageFields(g, ctx);
  const asForm = g.chance(0.35);
  const body = encoder.encode(asForm ? formOf(fields) : JSON.stringify(fields));
  return postCase(
    g,
    ctx,
    "valid-post",
    "/messages",
    g.pick(asForm ? FORM_TYPES : JSON_TYPES),
    body,
    { raw: g.chance(0.15), chunked: g.chance(0.1) },
  );
}

/** A valid read: /healthz, a page of /messages, one message, or a stream. */
export function genValidGet(g: Rng, ctx: GenContext): Case {
  const method = g.chance(0.1) ? "HEAD" : "GET";
  const which = g.weighted(
    [
      ["health", 1],
      ["page", 3],
      ["one", 2],
      ["stream", 2],
    ] as const,
  );
  let target: string;
  let route: Route;
  let expect: number[];
  const headers: [string, string][] = [];
  switch (which) {
    case "health":
      [target, route, expect] = ["/healthz", "GET /healthz", [200]];
      break;
    case "page": {
      const params = new URLSearchParams();
      if (g.chance(0.6)) params.set("limit", String(g.int(1, 200)));
      if (g.chance(0.5)) {
        params.set(g.pick(["before", "after"]), String(g.int(0, 3000)));
      }
      const query = params.toString();
      [target, route, expect] = [
        `/messages${query ? `?${query}` : ""}`,
        "GET /messages",
        [200],
      ];
      break;
    }
    case "one":
      [target, route, expect] = [
        `/messages/${g.int(1, 3000)}`,
        "GET /messages/:id",
        [200, 404],
      ];
      break;
    case "stream": {
      route = "GET /stream";
      expect = [200];
      const start = g.int(0, 3);
      target = start === 0
        ? "/stream"
        : start === 1
        ? `/stream?history=${g.int(0, 200)}`
        : `/stream?since=${g.int(0, 3000)}`;
      headers.push(["Accept", "text/event-stream"]);
      if (start === 3) headers.push(["Last-Event-ID", String(g.int(0, 3000))]);
      break;
    }
  }
  if (g.chance(0.15)) {
    return {
      via: "raw",
      kind: "valid-get",
      route,
      expect,
      mode: "read",
      head: method === "HEAD",
      bytes: rawRequest(ctx, method, target, headers),
    };
  }
  return {
    via: "fetch",
    kind: "valid-get",
    route,
    expect,
    method,
    target,
    headers,
  };
}
