/**
 * `pods/<name>/exec` over a WebSocket, as the API server proxies it to the kubelet: the channel protocols
 * (`v5.channel.k8s.io` preferred, which can close stdin; `v4.channel.k8s.io`), each message a channel byte
 * (0 stdin, 1 stdout, 2 stderr, 3 status, 255 close) and its data; the command runs with `podman exec`.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { execa } from "execa";
import { WebSocketServer } from "ws";

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

export class ExecEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  constructor(private readonly podman: string) {}

  /** Upgrades `req` and runs `command` in Podman container `container`, streaming its stdio over the socket. */
  handle(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    container: string,
    query: URLSearchParams,
  ): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const command = query.getAll("command");
      const stdin = query.get("stdin") === "true";
      const child = execa(this.podman, ["exec", ...(stdin ? ["-i"] : []), container, ...command], {
        reject: false,
        stdin: stdin ? "pipe" : "ignore",
        buffer: false,
        encoding: "buffer",
      });
      const send = (channel: number, data: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
      };
      child.stdout?.on("data", (d: Buffer) => send(1, d));
      child.stderr?.on("data", (d: Buffer) => send(2, d));
      ws.on("message", (data: Buffer) => {
        if (data[0] === 0) child.stdin?.write(data.subarray(1));
        else if (data[0] === 255 && data[1] === 0) child.stdin?.end();
      });
      ws.on("close", () => {
        child.stdin?.end();
      });
      void child.then((r) => {
        const code = r.exitCode ?? 1;
        const result =
          code === 0
            ? { metadata: {}, status: "Success" }
            : {
                metadata: {},
                status: "Failure",
                message: `command terminated with non-zero exit code: exit status ${code}`,
                reason: "NonZeroExitCode",
                details: { causes: [{ reason: "ExitCode", message: String(code) }] },
              };
        send(3, Buffer.from(JSON.stringify(result)));
        ws.close(1000);
      });
    });
  }

  close(): void {
    this.wss.close();
  }
}
