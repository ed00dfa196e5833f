/** What a failed pull's message says, as the contract's error code: the engines word these alike. */
import type { DriverErrorCode } from "./errors.js";

/** CNBP_REGISTRY_AUTH for refused credentials, CNBP_IMAGE_NOT_FOUND for an absent image, else CNBP_DRIVER_FAILED. */
export function pullFailureCode(message: string): DriverErrorCode {
  if (/unauthorized|authentication required|denied|401/i.test(message)) return "CNBP_REGISTRY_AUTH";
  if (/manifest unknown|not found|name unknown|no such host|does not exist/i.test(message))
    return "CNBP_IMAGE_NOT_FOUND";
  return "CNBP_DRIVER_FAILED";
}
