// The names SPEC section 7 fixes for the KPI engine — dimensions and alarmable KPIs — and their wire codes; a leaf module (the config schema imports it).

/** The four dimensions, in the order of their wire codes (partials, state). */
export const DIMENSIONS = ['cell', 'equipment', 'region', 'vendor'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const DIM_CELL = 0;
export const DIM_EQUIPMENT = 1;
export const DIM_REGION = 2;
export const DIM_VENDOR = 3;
export const DIM_COUNT = 4;

/** Is the dimension's key a string (region, vendor) rather than a 32-bit id (cell, equipment)? */
export function isStringDimension(code: number): boolean {
  return code === DIM_REGION || code === DIM_VENDOR;
}

/** Wire code of a dimension name. */
export function dimensionCode(name: Dimension): number {
  return DIMENSIONS.indexOf(name);
}

/** The KPIs an alarm rule may watch (SPEC section 7). */
export const KPI_NAMES = [
  'attach_success_rate',
  'session_success_rate',
  'handover_success_rate',
  'drop_rate',
  'setup_latency_p95_ms',
] as const;
export type KpiName = (typeof KPI_NAMES)[number];

/** KPIs whose values are ratios (their thresholds are read as shares in [0, 1]). */
export const RATE_KPIS: ReadonlySet<KpiName> = new Set(['attach_success_rate', 'session_success_rate', 'handover_success_rate', 'drop_rate']);
