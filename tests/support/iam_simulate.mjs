// Evaluates IAM requests against identity policies with @cloud-copilot/iam-simulate.
// stdin: {"policies": {principal: [policyDocument, ...]}, "requests": [{function, action, resource, context}],
//         "resourcePolicies": {resourceArn: policyDocument}} (a KMS key's own policy: KMS needs it to allow too)
// stdout: the requests, each with its "decision" (Allowed, ImplicitlyDenied, ExplicitlyDenied, or Error) and "errors".
import { runSimulation } from '@cloud-copilot/iam-simulate'

const ACCOUNT = '123456789012'
let input = ''
for await (const chunk of process.stdin) input += chunk
const { policies, requests, resourcePolicies = {} } = JSON.parse(input)

const answers = []
for (const request of requests) {
  const documents = policies[request.function] ?? []
  const simulation = {
    identityPolicies: documents.map((policy, i) => ({ name: `${request.function}-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicies[request.resource] ? { resourcePolicy: resourcePolicies[request.resource] } : {}),
    request: {
      action: request.action,
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${request.function}-role/${request.function}`,
      resource: { accountId: ACCOUNT, resource: request.resource },
      contextVariables: request.context ?? {},
    },
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    answers.push({ ...request, decision: 'Error', errors: response.errors })
  } else {
    answers.push({ ...request, decision: response.overallResult })
  }
}
process.stdout.write(JSON.stringify(answers))
