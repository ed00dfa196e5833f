/** Reading an image's CNB labels: each parsed and validated, every problem naming the image and the label. */
import { ValidationError } from "../errors.js";
import { type FileKind, parseSpec } from "../spec/file-kind.js";
import type { InspectedImage } from "./image-source.js";

/** The label's value, or undefined when the image does not have it; throws when it does not validate. */
export function readLabel<T>(image: InspectedImage, kind: FileKind<T>): T | undefined {
  const text = labelText(image, kind.name);
  if (text === undefined) return undefined;
  const where = `${image.name}: label ${kind.name}`;
  const parsed = parseSpec(kind, text, where);
  if (!parsed.ok) throw new ValidationError(where, parsed.problems);
  return parsed.value;
}

/** A label's raw text. */
export function labelText(image: InspectedImage, name: string): string | undefined {
  return image.config.config?.Labels?.[name];
}
