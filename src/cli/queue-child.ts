// The process `lbt worker` forks for one job (src/queue/child.ts), here so that its failures are
// sorted by the CLI's one map of error classes (job-failure.ts).
import { serveJob } from '../queue/child.js';
import { jobFailure } from './job-failure.js';

serveJob(jobFailure);
