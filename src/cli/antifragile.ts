#!/usr/bin/env node
/**
 * The `antifragile` command. `antifragile run <scenario.yaml>` runs a chaos scenario against a service and
 * exits 0 when its success criteria hold, 1 when they do not (or the run was aborted), 2 when the scenario
 * or the command line is invalid. `antifragile --help` lists every option.
 */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
