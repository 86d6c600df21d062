declare module '*.css' {
  const text: string;
  export default text;
}

// Chromium 140+ (the player's only browser); TypeScript 5.9's libs do not declare it yet.
interface Uint8ArrayConstructor {
  fromBase64(base64: string): Uint8Array<ArrayBuffer>;
}
