import type { InjectionToken } from "tsyringe";

/**
 * Makes a typed injection token. A helper rather than a bare `Symbol()` because TypeScript narrows an
 * annotated `const X: InjectionToken<T> = Symbol()` to `symbol` inside its own module, which loses the type.
 */
export const token = <T>(description: string): InjectionToken<T> => Symbol.for(`k3sinfra.${description}`);
