// The reference grammar moved to wire/reference.ts; this re-export stays only until the branches of issue 18 that
// still import it here (engine/distribution.ts, api/routes) have merged, then goes.
export * from '../wire/reference';
