/**
 * The only module that imports tsyringe. Token-based injection, no decorators: type-based injection needs
 * emitted decorator metadata that esbuild-based runners (vitest) do not produce.
 */
import "reflect-metadata"; // tsyringe throws at import without it
import { container, type DependencyContainer, instanceCachingFactory } from "tsyringe";

export { container as rootContainer, type DependencyContainer, instanceCachingFactory };

export type Token<T> = symbol & { readonly __type?: T };
export const token = <T>(name: string) => Symbol(name) as Token<T>;
export const resolve = <T>(c: DependencyContainer, t: Token<T>): T => c.resolve<T>(t as symbol);
