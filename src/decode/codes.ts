// Names of the enumerated record fields (SPEC section 1), indexed by their wire code; anything else is `unknown`.

export const TYPE_NAMES: readonly string[] = [
  'unknown', 'attach', 'detach', 'session_start', 'session_end', 'handover', 'radio_link_failure', 'call_drop', 'paging',
];
export const RESULT_NAMES: readonly string[] = ['success', 'failure', 'timeout'];
export const RAT_NAMES: readonly string[] = ['unknown', '2G', '3G', '4G', '5G-NSA', '5G-SA'];

export function typeName(code: number): string {
  return TYPE_NAMES[code] ?? 'unknown';
}
export function resultName(code: number): string {
  return RESULT_NAMES[code] ?? 'unknown';
}
export function ratName(code: number): string {
  return RAT_NAMES[code] ?? 'unknown';
}
