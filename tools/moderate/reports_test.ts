// What `deno task moderate reports` prints and `dismiss` sends, against a
// fake server.
import assert from "node:assert/strict";
import {
  type Call,
  describeReport,
  type ListedReport,
  runReportCommand,
  shellQuote,
} from "./reports.ts";

const REPORT: ListedReport = {
  id: 7,
  messageId: 42,
  reason: "spam",
  reporterName: "Ada",
  reporterAddress: "192.0.2.1",
  createdAt: "2026-12-06T12:00:00.000Z",
  message: { author: "Bob's bot", text: "buy\nnow" },
  reportsOfMessage: 2,
};

Deno.test("describeReport: the message on one line and commands that paste safely", () => {
  const lines = describeReport(REPORT);
  assert.equal(
    lines[0],
    "report 7: message 42, 2 open reports of it, 2026-12-06T12:00:00.000Z, from 192.0.2.1 (says Ada)",
  );
  assert.equal(lines[1], "  Bob's bot: buy ⏎ now");
  assert.equal(lines[2], "  reason: spam");
  assert.ok(lines.includes("  delete the message:  deno task moderate 42"));
  assert.ok(
    lines.includes(
      `  ban its author:      deno task moderate ban name 'Bob'\\''s bot' --remove-recent`,
    ),
  );
  assert.ok(
    lines.includes(
      "  ban the reporter:    deno task moderate ban address 192.0.2.1",
    ),
  );
  assert.ok(
    lines.includes("  dismiss the report:  deno task moderate dismiss 7"),
  );
  assert.equal(shellQuote("ada"), "ada");
  assert.equal(shellQuote("$(rm -rf ~)"), "'$(rm -rf ~)'");
});

Deno.test("reports and dismiss: what they ask the server and what they return", async () => {
  const sent: string[] = [];
  const call: Call = (method, path) => {
    sent.push(`${method} ${path}`);
    if (method === "GET") {
      return Promise.resolve({
        status: 200,
        text: JSON.stringify({ reports: [REPORT] }),
      });
    }
    return Promise.resolve(
      path.endsWith("/7")
        ? { status: 204, text: "" }
        : { status: 404, text: '{"error":"There is no open report 8."}' },
    );
  };
  const log = console.log;
  const error = console.error;
  const printed: string[] = [];
  console.log = console.error = (line: string) => printed.push(line);
  try {
    assert.equal(await runReportCommand("reports", [], call), 0);
    assert.equal(await runReportCommand("dismiss", ["7", "8"], call), 1);
    assert.equal(await runReportCommand("dismiss", [], call), 2);
    assert.equal(await runReportCommand("bans", [], call), null);
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.deepEqual(sent, [
    "GET /moderation/reports",
    "DELETE /moderation/reports/7",
    "DELETE /moderation/reports/8",
  ]);
  assert.match(printed[0], /^report 7: message 42/);
  assert.equal(printed[1], "dismissed report 7");
  assert.equal(printed[2], "report 8: 404 There is no open report 8.");
});
