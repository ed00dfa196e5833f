/** The driver's options, as `cnbp driver info docker` shows them and createDriver receives them. */
import { z } from "zod";

export const optionsSchema = z.strictObject({
  host: z
    .string()
    .optional()
    .describe(
      "the engine's address, unix:///path or tcp://host:port; default DOCKER_HOST, else the current docker context, else unix:///var/run/docker.sock",
    ),
  tlsVerify: z
    .boolean()
    .optional()
    .describe(
      "talk TLS to a tcp:// host and verify it with the certificates in certPath; default DOCKER_TLS_VERIFY",
    ),
  certPath: z
    .string()
    .optional()
    .describe("directory of ca.pem, cert.pem and key.pem; default DOCKER_CERT_PATH, else ~/.docker"),
});

export type DockerDriverOptions = z.input<typeof optionsSchema>;
