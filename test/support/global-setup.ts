// Starts one stack for the whole run; test files reach it with inject('stack').
// Tests that stop or kill parts of a stack start their own with startTestStack().
import type { TestProject } from 'vitest/node';
import { startTestStack, type StackInfo } from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export default async function setup(project: TestProject) {
  const stack = await startTestStack();
  project.provide('stack', {
    url: stack.url,
    dbUrl: stack.dbUrl,
    jwtSecret: stack.jwtSecret,
    anonKey: stack.anonKey,
    serviceRoleKey: stack.serviceRoleKey,
  });
  return async () => {
    await stack.destroy();
  };
}
