/**
 * Moderators' word and link rules and the messages they hold, behind
 * ADMIN_TOKEN like the bans: GET and POST /moderation/rules, DELETE
 * /moderation/rules/<id>, POST /moderation/rules/shorteners, GET
 * /moderation/held and POST /moderation/held/<id>/approve or /reject.
 * A rule change is stored in the database, whose trigger tells every
 * instance (plaza_rules); this one re-reads at once.
 */
import type { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { type BearerGuard, moderatorCheck } from "./admin_auth.ts";
import { errorResponse } from "./http_error.ts";
import { readFields } from "./request_fields.ts";
import { parseId } from "./request_params.ts";
import {
  RULE_FIELDS,
  type RuleInput,
  URL_SHORTENERS,
  validateRuleInput,
} from "../../protocol/rules.ts";
import type { RuleStore } from "../store/rule_store.ts";
import type { RulesState } from "../limits/rules.ts";

/** What the rule routes need. */
export interface RuleRouteDeps {
  store: RuleStore;
  /** This instance's cache, refreshed right after a change here. */
  state: Pick<RulesState, "refresh">;
  /** ADMIN_TOKEN; null = the routes answer 404 saying moderation is off. */
  adminToken: string | null;
  guard: BearerGuard;
  stopping: () => boolean;
}

// The shortener rules take the action fields of a rule, without a pattern.
const SHORTENER_FIELDS = ["action", "minutes", "reason"];

/** Adds the rule and held-message routes to `app`. */
export function registerRuleRoutes(
  app: Hono<AppEnv>,
  deps: RuleRouteDeps,
): void {
  const admin = moderatorCheck(deps.adminToken, deps.guard);
  const { store } = deps;

  app.get("/moderation/rules", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    return Response.json({ rules: await store.list() });
  });

  app.post("/moderation/rules", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, RULE_FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const input = validateRuleInput(fields.value);
    if (!input.ok) return errorResponse(400, input.error);
    const { rule, created } = await store.add(input.value);
    await deps.state.refresh();
    return Response.json(rule, { status: created ? 201 : 200 });
  });

  app.post("/moderation/rules/shorteners", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const fields = await readFields(c, SHORTENER_FIELDS, deps.stopping);
    if (!fields.ok) return fields.response;
    const body = fields.value;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return errorResponse(
        400,
        'Body must be an object like {"action": "hold"}.',
      );
    }
    const extra = Object.keys(body).find((k) => !SHORTENER_FIELDS.includes(k));
    if (extra !== undefined) {
      return errorResponse(
        400,
        `Unknown field "${extra.slice(0, 40)}"; expected ${
          SHORTENER_FIELDS.join(", ")
        }.`,
      );
    }
    // Checked once, as a rule on the first shortener.
    const first = validateRuleInput({ ...body, domain: URL_SHORTENERS[0] });
    if (!first.ok) return errorResponse(400, first.error);
    const rules = [];
    for (const domain of URL_SHORTENERS) {
      const input: RuleInput = { ...first.value, pattern: domain };
      rules.push((await store.add(input)).rule);
    }
    await deps.state.refresh();
    return Response.json({ rules });
  });

  app.delete("/moderation/rules/:id", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    const id = parseId(c.req.param("id"), "The rule id");
    if (!id.ok) return errorResponse(400, id.error);
    if (!(await store.remove(id.value))) {
      return errorResponse(404, `There is no rule ${id.value}.`);
    }
    await deps.state.refresh();
    return new Response(null, { status: 204 });
  });

  app.get("/moderation/held", async (c) => {
    const refused = admin(c);
    if (refused) return refused;
    return Response.json({ held: await store.held() });
  });

  app.post("/moderation/held/:id/:verdict", async (c) => {
    const verdict = c.req.param("verdict");
    if (verdict !== "approve" && verdict !== "reject") {
      return errorResponse(404, `Nothing at ${c.req.path}.`);
    }
    const refused = admin(c);
    if (refused) return refused;
    const id = parseId(c.req.param("id"), "The held message id");
    if (!id.ok) return errorResponse(400, id.error);
    const missing = () =>
      errorResponse(404, `There is no held message ${id.value}.`);
    if (verdict === "reject") {
      return await store.reject(id.value)
        ? new Response(null, { status: 204 })
        : missing();
    }
    const message = await store.approve(id.value);
    return message === null ? missing() : Response.json(message);
  });
}
