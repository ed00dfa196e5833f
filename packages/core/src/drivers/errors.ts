/** The errors drivers throw: their messages say which driver and which operation failed first. */
import { CnbpError } from "../errors.js";

/** The codes the contracts name; the test kit checks them, so they never change meaning. */
export type DriverErrorCode =
  | "CNBP_DRIVER_UNAVAILABLE"
  | "CNBP_DRIVER_FAILED"
  | "CNBP_BUILD_FAILED"
  | "CNBP_IMAGE_NOT_FOUND"
  | "CNBP_REGISTRY_AUTH"
  | "CNBP_UNSUPPORTED"
  | "CNBP_UNKNOWN_VOLUME"
  | "CNBP_UNSAFE_PATH"
  | "CNBP_NOT_FOUND"
  | "CNBP_VOLUME_IN_USE"
  | "CNBP_WORKSPACE_DISPOSED"
  | "CNBP_CANCELLED";

/** `driver <name>: <operation>: <message>`, e.g. `driver podman: workspace.put: no volume "cache"`. */
export class DriverError extends CnbpError {
  constructor(
    override readonly code: DriverErrorCode,
    readonly driver: string,
    readonly operation: string,
    message: string,
    extra: { hints?: readonly string[]; cause?: unknown } = {},
  ) {
    super(code, `driver ${driver}: ${operation}: ${message}`, extra);
  }
}
