/**
 * The guest's clock against the host's over one boot (agent hello → shutdown answer). Every rate the lab reports is
 * counts over guest time, so a guest clock that runs fast or slow (a TSC calibration gone wrong under a loaded TCG
 * host) makes every rate wrong by the same factor. Messages take milliseconds, so only boots long enough for that
 * to be noise are judged.
 */
export const CLOCK_CHECK_MIN_S = 5;
export const CLOCK_TOLERANCE = 0.03;

/** A warning when the guest's clock ran off the host's beyond the tolerance, else undefined. */
export function clockDrift(guestElapsedS: number, hostElapsedS: number, where: string): string | undefined {
  if (!(hostElapsedS >= CLOCK_CHECK_MIN_S) || !(guestElapsedS > 0)) return undefined;
  const rate = guestElapsedS / hostElapsedS;
  if (Math.abs(rate - 1) <= CLOCK_TOLERANCE) return undefined;
  return `${where}: the guest's clock ran at ${rate.toFixed(3)}x the host's over this boot (${guestElapsedS.toFixed(1)} s against ` +
    `${hostElapsedS.toFixed(1)} s): every rate measured in it is off by that factor (a TSC calibration gone wrong?)`;
}
