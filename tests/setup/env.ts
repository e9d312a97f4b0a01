// Shared test environment defaults (kept tiny: per-suite setup lives in tests/helpers).
// Typed arrays from Node's main realm, so onnxruntime-node and tfjs outputs pass `instanceof` checks (see realm.ts).
import './realm';

process.env.LOG_LEVEL ??= 'silent';
