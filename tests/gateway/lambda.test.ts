// The shared gateway suite through the AWS Lambda handler (@as-integrations/aws-lambda), invoked in-process with
// API Gateway HTTP API (payload v2) events — the same Apollo server, database and services as over HTTP.
import { defineGatewaySuite } from './shared-suite';

defineGatewaySuite('lambda');
