/**
 * A stand-in push service for the Workers pool's push tests (vitest globalSetup, in Node): an
 * http server on 127.0.0.1 (subscriptions may name it because the pool sets
 * PUSH_ALLOW_LOOPBACK=1) that records every push it receives and answers as a test scripted:
 *
 * - `POST /push/<id>`: a push; recorded, then answered with the next scripted status for `<id>`
 *   (201 when none is left; "hang": never answered);
 * - `POST /script/<id>` with a JSON list of statuses and "hang": the answers to come;
 * - `POST /release/<id>`: answers the pushes left hanging (201);
 * - `GET /log/<id>`: the pushes received, `{headers, body}` with the body in base64.
 *
 * Its URL reaches the tests through provide/inject (`pushService`). It stops with the run.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    pushService: string;
  }
}

interface Received {
  headers: Record<string, string>;
  body: string;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logs = new Map<string, Received[]>();
  const scripts = new Map<string, (number | "hang")[]>();
  const hanging = new Map<string, ServerResponse[]>();
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const [, kind, id] = (req.url ?? "").split("/");
    const body = await read(req);
    if (req.method === "POST" && kind === "script" && id) {
      scripts.set(id, JSON.parse(body.toString("utf8")) as (number | "hang")[]);
      res.writeHead(204).end();
    } else if (req.method === "POST" && kind === "release" && id) {
      for (const held of hanging.get(id) ?? []) held.writeHead(201).end();
      hanging.delete(id);
      res.writeHead(204).end();
    } else if (req.method === "GET" && kind === "log" && id) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(logs.get(id) ?? []));
    } else if (req.method === "POST" && kind === "push" && id) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      logs.set(id, [...(logs.get(id) ?? []), { headers, body: body.toString("base64") }]);
      const next = scripts.get(id)?.shift() ?? 201;
      if (next === "hang") {
        hanging.set(id, [...(hanging.get(id) ?? []), res]);
        return;
      }
      const retryAfter: Record<string, string> = next === 429 ? { "retry-after": "1" } : {};
      res.writeHead(next, retryAfter).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("pushService", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
