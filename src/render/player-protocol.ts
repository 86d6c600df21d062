// What Node and the player page (player/player.ts) say to each other: types only, no DOM.

export interface PlayerConfig {
  /** Size of the picture area (the footer comes below it). */
  frameWidth: number;
  frameHeight: number;
  footerHeight: number;
  /** Timestamp of the recording's first event: the footer counts session time from it. */
  sessionStartTs: number;
  /** How long a click ripple stays visible, in ms of replay time. */
  clickRippleMs: number;
  /** Clicks to draw: replay timestamp and recorded-viewport position. */
  clicks: { ts: number; x: number; y: number }[];
}

export interface StepResult {
  /** Assets (fonts, images, stylesheets) still loading when the wait gave up. */
  pending: number;
  href: string;
}
