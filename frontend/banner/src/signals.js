/** Privacy signals the browser sends: Global Privacy Control and Do Not Track. Pure. */

/**
 * @param {{globalPrivacyControl?: boolean, doNotTrack?: string|null}} nav  `navigator`
 * @param {{gpc_header?: boolean, jurisdiction: {gpc: string}}} config  the banner config
 * @returns {{gpc: boolean, gpcApplies: boolean, dnt: boolean}}
 *   `gpc`: a signal is present (the page's `navigator` or the `Sec-GPC` header the server saw);
 *   `gpcApplies`: it has legal effect in the visitor's jurisdiction (an opt-out of sale/share);
 *   `dnt`: Do Not Track, only recorded: no law gives it effect.
 */
export function readSignals(nav, config) {
  const gpc = nav.globalPrivacyControl === true || Boolean(config.gpc_header);
  return { gpc, gpcApplies: gpc && config.jurisdiction.gpc !== 'none', dnt: nav.doNotTrack === '1' };
}
