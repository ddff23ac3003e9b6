import {
  buildClientSchema, buildSchema, getIntrospectionQuery, isEnumType, isInputObjectType, isInterfaceType, isNonNullType, isObjectType,
  type GraphQLSchema, type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dataOf, startTestApp, type TestApp } from '../harness.js';

/**
 * CONTRACT.md §4, verbatim in substance: "the names and types below must appear exactly; more may
 * be added". Nullability is part of a type: a client generated from the contract relies on it.
 */
const CONTRACT_SDL = /* GraphQL */ `
scalar DateTime
scalar JSON
enum MessageLevel { DEBUG INFO SUCCESS WARNING ERROR STORED_DEBUG STORED_INFO STORED_SUCCESS STORED_WARNING STORED_ERROR }
interface Node { id: ID! }
type Message implements Node {
  id: ID!  text: String!  level: MessageLevel!  levelValue: Int!  levelTag: String!  extraTags: String!  tags: String!  url: String
  data: JSON  createdAt: DateTime!  readAt: DateTime  read: Boolean!  stored: Boolean!  expiresAt: DateTime
}
type MessageEdge { cursor: String!  node: Message! }
type PageInfo { hasNextPage: Boolean!  hasPreviousPage: Boolean!  startCursor: String  endCursor: String }
type MessageConnection { edges: [MessageEdge!]!  pageInfo: PageInfo!  totalCount: Int! }
input MessageFilter { read: Boolean  levels: [MessageLevel!]  since: DateTime  until: DateTime }
type Query {
  node(id: ID!): Node
  messages(first: Int, after: String, last: Int, before: String, filter: MessageFilter): MessageConnection!
  unreadMessages(first: Int, after: String, last: Int, before: String): MessageConnection!
  message(id: ID!): Message
  unreadCount: Int!
  pendingMessages: [Message!]!
}
input AddMessageInput { level: MessageLevel!  text: String!  extraTags: String  url: String  data: JSON  expiresAt: DateTime  idempotencyKey: String }
input AddMessageForInput {
  userIds: [ID!]!  level: MessageLevel!  text: String!  extraTags: String  url: String  data: JSON  date: DateTime  expiresAt: DateTime  idempotencyKey: String
}
input BroadcastMessageInput {
  level: MessageLevel!  text: String!  extraTags: String  url: String  data: JSON  date: DateTime  expiresAt: DateTime  idempotencyKey: String
}
input MarkReadInput { ids: [ID!]! }
input MarkAllReadInput { until: DateTime }
input DeleteMessagesInput { ids: [ID!]! }
type AddMessagePayload { message: Message!  stored: Boolean! }
type AddMessageForPayload { message: Message!  recipientCount: Int! }
type BroadcastMessagePayload { message: Message!  recipientCount: Int! }
type MarkReadPayload { count: Int!  messages: [Message!]!  notFound: [ID!]!  unreadCount: Int! }
type MarkAllReadPayload { count: Int!  unreadCount: Int! }
type DeleteMessagesPayload { count: Int!  notFound: [ID!]!  unreadCount: Int! }
type ConsumeMessagesPayload { messages: [Message!]!  unreadCount: Int! }
type Mutation {
  addMessage(input: AddMessageInput!): AddMessagePayload!
  addMessageFor(input: AddMessageForInput!): AddMessageForPayload!
  broadcastMessage(input: BroadcastMessageInput!): BroadcastMessagePayload!
  markRead(input: MarkReadInput!): MarkReadPayload!
  markUnread(input: MarkReadInput!): MarkReadPayload!
  markAllRead(input: MarkAllReadInput): MarkAllReadPayload!
  deleteMessages(input: DeleteMessagesInput!): DeleteMessagesPayload!
  consumeMessages: ConsumeMessagesPayload!
}
enum InboxSignal { ARCHIVE_STORED INBOX_STORED INBOX_DELETED INBOX_PURGED ARCHIVE_DELETED RESYNC }
type InboxEvent { signal: InboxSignal!  message: Message  messageIds: [ID!]!  unreadCount: Int!  cursor: String! }
type Subscription { messageAdded: Message!  inboxEvents(after: String): InboxEvent! }
`;

/** Every way the served schema departs from the contract (missing names, different types). */
function differences(contract: GraphQLSchema, served: GraphQLSchema): string[] {
  const out: string[] = [];
  for (const type of Object.values(contract.getTypeMap())) {
    if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
    const mine = served.getType(type.name);
    if (!mine) {
      out.push(`${type.name}: missing`);
      continue;
    }
    if (mine.constructor.name !== type.constructor.name) out.push(`${type.name}: is a ${mine.constructor.name}, not a ${type.constructor.name}`);
    if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(mine) || isInterfaceType(mine))) {
      for (const i of type.getInterfaces()) if (!mine.getInterfaces().some((m) => m.name === i.name)) out.push(`${type.name}: does not implement ${i.name}`);
      const fields = mine.getFields();
      for (const f of Object.values(type.getFields())) {
        const m = fields[f.name];
        if (!m) out.push(`${type.name}.${f.name}: missing`);
        else if (String(m.type) !== String(f.type)) out.push(`${type.name}.${f.name}: ${m.type}, contract says ${f.type}`);
        for (const a of f.args) {
          const ma = m?.args.find((x) => x.name === a.name);
          if (m && !ma) out.push(`${type.name}.${f.name}(${a.name}): missing`);
          else if (ma && String(ma.type) !== String(a.type)) out.push(`${type.name}.${f.name}(${a.name}): ${ma.type}, contract says ${a.type}`);
        }
        for (const ma of m?.args ?? []) {
          if (!f.args.some((a) => a.name === ma.name) && isNonNullType(ma.type)) out.push(`${type.name}.${f.name}(${ma.name}): extra required argument`);
        }
      }
    }
    if (isInputObjectType(type) && isInputObjectType(mine)) {
      const fields = mine.getFields();
      for (const f of Object.values(type.getFields())) {
        if (!fields[f.name]) out.push(`${type.name}.${f.name}: missing`);
        else if (String(fields[f.name].type) !== String(f.type)) out.push(`${type.name}.${f.name}: ${fields[f.name].type}, contract says ${f.type}`);
      }
      for (const m of Object.values(fields)) {
        if (!type.getFields()[m.name] && isNonNullType(m.type)) out.push(`${type.name}.${m.name}: extra required input field`);
      }
    }
    if (isEnumType(type) && isEnumType(mine)) {
      for (const v of type.getValues()) if (!mine.getValue(v.name)) out.push(`${type.name}.${v.name}: missing`);
    }
  }
  for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
    const want = root === 'Query' ? contract.getQueryType() : root === 'Mutation' ? contract.getMutationType() : contract.getSubscriptionType();
    const got = root === 'Query' ? served.getQueryType() : root === 'Mutation' ? served.getMutationType() : served.getSubscriptionType();
    if (want && got?.name !== want.name) out.push(`${root} root: ${got?.name ?? 'none'}`);
  }
  return out;
}

describe.each(BACKENDS)('the served schema on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  it('has every name and type of CONTRACT.md §4, nullability included', async () => {
    const { token } = await t.userToken();
    const served = buildClientSchema(dataOf<IntrospectionQuery>(await t.gql(token, getIntrospectionQuery())));
    expect(differences(buildSchema(CONTRACT_SDL), served)).toEqual([]);
  });
});
