// Shared test environment defaults (kept tiny: per-suite setup lives in tests/helpers).
process.env.LOG_LEVEL ??= 'silent';
