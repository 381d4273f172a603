#!/usr/bin/env node
// `npm ci` runs `prepare`, which builds dist/; this launcher only forwards to it.
import '../dist/cli.js';
