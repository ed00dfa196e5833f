/** This lifecycle's version, as `-version` prints it and as the exporter records it in the launcher metadata. */
export const LIFECYCLE_VERSION = "0.1.0";
