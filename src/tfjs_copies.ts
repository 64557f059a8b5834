/**
 * Two copies of @tensorflow/tfjs in one process (a project on another tfjs
 * version than catvae's range) share tfjs's global engine, but each copy
 * keeps its own layer registry and classes: layers go missing ("Unknown
 * layer"), kernels are registered twice, and models fail far from the cause.
 * The engine's Environment was built by the copy imported first, so it is an
 * instance of this copy's Environment class only when there is one copy.
 */
import * as tf from '@tensorflow/tfjs';

/** One line naming the problem and the fix, or null when catvae's tfjs is the one that made the engine. */
export function tfjsCopiesProblem(
  env: object = tf.env(),
  Environment: abstract new (...args: never[]) => object = tf.Environment,
): string | null {
  if (env instanceof Environment) return null;
  return (
    `catvae: two copies of @tensorflow/tfjs are loaded (catvae's is ${tf.version.tfjs}, another one started first); ` +
    `install one, e.g. 'npm install @tensorflow/tfjs@^4.22.0 && npm dedupe', and check with 'npm ls @tensorflow/tfjs'`
  );
}

let warned = false;

/** Warns once per process (console.warn) when a second copy of tfjs is loaded. */
export function warnIfTwoTfjsCopies(): void {
  if (warned) return;
  const problem = tfjsCopiesProblem();
  if (problem) {
    warned = true;
    console.warn(problem);
  }
}
