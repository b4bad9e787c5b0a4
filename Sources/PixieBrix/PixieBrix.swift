// PixieBrix
